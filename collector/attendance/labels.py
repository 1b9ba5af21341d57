"""What reports and notes call things, in Bahasa Indonesia (read by HR and unit heads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.attendance.model import WITA, PartialLeave, Status

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import time

    from collector.attendance.model import Tap

STATUS_LABELS: Final = {
    Status.HADIR: "Hadir",
    Status.TANPA_KETERANGAN: "Tanpa keterangan",
    Status.IZIN: "Izin",
    Status.SAKIT: "Sakit",
    Status.CUTI: "Cuti",
    Status.DINAS_LUAR: "Dinas luar",
    Status.TUGAS_BELAJAR: "Tugas belajar",
    Status.LIBUR: "Libur",
}
"""Each status's name as recaps print it beside its code."""

NO_CHECK_IN: Final = "Tidak absen masuk"
NO_CHECK_OUT: Final = "Tidak absen pulang"
RAMADAN_HOURS: Final = "Jam kerja Ramadan"
TAPS_ON_DAY_OFF: Final = "Tap pada hari libur tidak dihitung"
UNKNOWN_CARD: Final = "Kartu tidak terdaftar"


def outside_window(count: int) -> str:
    """Taps listed on the day that fell outside every tap window."""
    return f"{count} tap di luar jendela absen (tidak dihitung)"


def partial_leave(kind: PartialLeave, at: time) -> str:
    """A partial-day permission, e.g. ``Izin datang terlambat s.d. 09:00``."""
    if kind is PartialLeave.LATE_ARRIVAL:
        return f"Izin datang terlambat s.d. {at:%H:%M}"
    return f"Izin pulang cepat mulai {at:%H:%M}"


def leave_on_day_off(label: str) -> str:
    """Leave over a day off: the day stays *libur*, the leave counts only working days."""
    return f"{label} pada hari libur tidak dihitung"


def taps_during_leave(label: str) -> str:
    """Taps on a day that leave decides: shown, without bands."""
    return f"Ada tap pada hari {label} (tanpa TL/PSW)"


def several_leaves(labels: Iterable[str], chosen: str) -> str:
    """More than one whole-day leave covers the day; the first (by start, id) decides."""
    return f"Beberapa izin/cuti pada tanggal ini: {', '.join(labels)}; dipakai: {chosen}"


def suspect_clock(gateway: str, taps: Iterable[Tap]) -> str:
    """Taps stamped by a gateway whose clock was far off: counted, but not silently."""
    times = ", ".join(f"{tap.at.astimezone(WITA):%H:%M:%S}" for tap in taps)
    return f"Jam gateway {gateway} diragukan: tap {times} WITA"


def ambiguous_card(candidates: Iterable[str]) -> str:
    """A card matching the cards of several employees on the tap's date."""
    return f"Kartu cocok untuk lebih dari satu pegawai: {', '.join(candidates)}"


def inactive_holder(employee: str) -> str:
    """A card whose holder is not an active employee on the tap's date."""
    return f"Pemegang kartu ({employee}) tidak aktif pada tanggal ini"
