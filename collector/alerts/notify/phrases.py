"""The words of the messages, in Bahasa Indonesia (``id``, the default) and English (``en``).

One layout per message (the templates), one phrasebook per language (here): a phrase
missing in one language is found by :func:`collector.alerts.notify.render.check_templates`
(the templates render with ``StrictUndefined``), not by a guard at 3 a.m.

``RULES`` gives each known rule a title and what to check first; a rule not listed gets
its name as title and the generic hint; ``notify.hints`` in the settings overrides hints.
"""

from __future__ import annotations

from typing import Final

PHRASES: Final[dict[str, dict[str, str]]] = {
    "id": {
        "firing": "AKTIF",
        "resolved": "PULIH",
        "repeat": "MASIH AKTIF",
        "test": "UJI",
        "severity_info": "info",
        "severity_warning": "peringatan",
        "severity_critical": "kritis",
        "alerts_firing": "peringatan aktif",
        "alerts_resolved": "peringatan pulih",
        "alerts_repeat": "peringatan masih aktif",
        "site": "Lokasi",
        "building": "Gedung",
        "gateway": "Gateway",
        "device": "Perangkat",
        "item": "Port/item",
        "since": "Sejak",
        "fired_at": "Aktif sejak",
        "resolved_at": "Pulih pada",
        "value": "Nilai saat ini",
        "check_first": "Periksa dulu",
        "severity": "Tingkat",
        "intro_firing": "Pelangi mendeteksi masalah berikut.",
        "intro_resolved": "Masalah berikut sudah pulih.",
        "intro_repeat": "Masalah berikut masih berlangsung.",
        "footer": "Pesan otomatis dari Pelangi, sistem telemetri Bukit Pelangi. Waktu dalam WITA.",
        "test_subject": "Pesan uji Pelangi",
        "test_body": (
            "Ini pesan uji dari Pelangi. Jika Anda menerimanya, pengiriman email berfungsi."
        ),
        "digest_subject": "Ringkasan harian Pelangi",
        "digest_open": "Peringatan yang masih aktif",
        "digest_offline": "Gateway offline",
        "digest_doors": "Pintu terbuka semalam",
        "digest_attendance": "Kehadiran kemarin per unit",
        "digest_unavailable": (
            "Data tidak tersedia: InfluxDB tidak dapat dibaca saat ringkasan dibuat"
        ),
        "none": "tidak ada",
        "still_open": "masih terbuka",
        "closed_at": "ditutup",
        "opened_at": "dibuka",
        "unit": "Unit",
        "present": "Hadir",
        "late": "Terlambat",
        "absent": "Tidak hadir",
        "leave": "Cuti/izin",
        "total": "Jumlah",
    },
    "en": {
        "firing": "FIRING",
        "resolved": "RESOLVED",
        "repeat": "STILL FIRING",
        "test": "TEST",
        "severity_info": "info",
        "severity_warning": "warning",
        "severity_critical": "critical",
        "alerts_firing": "alerts firing",
        "alerts_resolved": "alerts resolved",
        "alerts_repeat": "alerts still firing",
        "site": "Site",
        "building": "Building",
        "gateway": "Gateway",
        "device": "Device",
        "item": "Port/item",
        "since": "Since",
        "fired_at": "Firing since",
        "resolved_at": "Resolved at",
        "value": "Current value",
        "check_first": "Check first",
        "severity": "Severity",
        "intro_firing": "Pelangi has detected the following problem.",
        "intro_resolved": "The following problem has been resolved.",
        "intro_repeat": "The following problem is still going on.",
        "footer": "An automatic message from Pelangi, Bukit Pelangi's telemetry. Times in WITA.",
        "test_subject": "Pelangi test message",
        "test_body": (
            "This is a test message from Pelangi. If you received it, email delivery works."
        ),
        "digest_subject": "Pelangi daily digest",
        "digest_open": "Alerts still open",
        "digest_offline": "Gateways offline",
        "digest_doors": "Doors left open overnight",
        "digest_attendance": "Yesterday's attendance per unit",
        "digest_unavailable": "Not available: InfluxDB could not be read when the digest was made",
        "none": "none",
        "still_open": "still open",
        "closed_at": "closed",
        "opened_at": "opened",
        "unit": "Unit",
        "present": "Present",
        "late": "Late",
        "absent": "Absent",
        "leave": "On leave",
        "total": "Total",
    },
}

MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

GENERIC_HINT: Final = {
    "id": "Lihat dasbor Pelangi untuk perangkat ini dan periksa catatan gateway-nya.",
    "en": "Open this device's Pelangi dashboard and check its gateway's log.",
}

# rule name -> language -> (title, what to check first)
RULES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "door_held_open": {
        "id": ("Pintu terbuka terlalu lama", "Periksa pintu di lokasi dan tutup bila aman."),
        "en": ("Door held open too long", "Check the door on site and close it if it is safe."),
    },
    "door_opened_off_hours": {
        "id": ("Pintu dibuka di luar jam kerja", "Pastikan siapa yang masuk (CCTV, buku tamu)."),
        "en": ("Door opened outside working hours", "Find out who entered (CCTV, guest book)."),
    },
    "door_forced_open": {
        "id": (
            "Pintu dibuka tanpa kartu yang sah",
            "Kirim petugas ke pintu; periksa kunci dan pembaca kartu.",
        ),
        "en": (
            "Door opened without a valid card",
            "Send a guard to the door; check the lock and the card reader.",
        ),
    },
    "door_sensor_unknown": {
        "id": ("Sensor pintu tidak memberi kabar", "Periksa kabel sensor dan pengendali pintu."),
        "en": ("Door sensor silent", "Check the sensor wiring and the door controller."),
    },
    "card_unknown": {
        "id": ("Kartu tidak dikenal", "Periksa apakah kartu baru belum didaftarkan."),
        "en": ("Unknown card presented", "Check whether a new card has not been registered yet."),
    },
    "card_inactive_employee": {
        "id": ("Kartu pegawai tidak aktif", "Hubungi bagian kepegawaian; kartu perlu ditarik."),
        "en": ("Card of an inactive employee", "Ask HR; the card should be withdrawn."),
    },
    "port_down": {
        "id": ("Port switch mati", "Periksa kabel dan perangkat di ujung port ini."),
        "en": ("Switch port down", "Check the cable and the device at the far end of the port."),
    },
    "port_errors": {
        "id": ("Error/discard port tinggi", "Periksa kabel, konektor dan duplex port ini."),
        "en": ("High port errors/discards", "Check the cable, connectors and duplex of the port."),
    },
    "port_utilisation": {
        "id": ("Pemakaian port tinggi", "Cari perangkat yang memakai bandwidth paling besar."),
        "en": ("High port utilisation", "Find the device using the most bandwidth."),
    },
    "switch_unreachable": {
        "id": ("Switch tidak menjawab", "Periksa listrik dan uplink switch ini."),
        "en": ("Switch unreachable", "Check the switch's power and uplink."),
    },
    "gateway_offline": {
        "id": ("Gateway offline", "Periksa listrik dan jaringan gateway di gedung ini."),
        "en": ("Gateway offline", "Check the gateway's power and network in this building."),
    },
    "outbox_evicting": {
        "id": ("Outbox gateway membuang data", "Pulihkan koneksi gateway ke broker segera."),
        "en": ("Gateway outbox evicting data", "Restore the gateway's link to the broker now."),
    },
    "outbox_backlog": {
        "id": ("Data gateway tertahan", "Periksa koneksi gateway ke broker pusat."),
        "en": ("Gateway data held back", "Check the gateway's link to the central broker."),
    },
    "agent_problems": {
        "id": ("Agen gateway melaporkan masalah", "Baca laporan kesehatan agen di gateway."),
        "en": ("Gateway agent reports problems", "Read the agent's health report on the gateway."),
    },
}
