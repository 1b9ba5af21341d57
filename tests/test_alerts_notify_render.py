"""Rendering: every field in both languages, WITA times, escaping, template checks, the digest."""

from __future__ import annotations

import dataclasses
import re

import pytest

from collector.alerts.model import Alert, AlertKey, Notification, NotificationKind
from collector.alerts.notify import phrases as phrases_module
from collector.alerts.notify import samples
from collector.alerts.notify.errors import TemplateError
from collector.alerts.notify.formats import wita
from collector.alerts.notify.render import Renderer, check_templates

HOSTILE = '<script>alert("x")</script> & <b>'


def one(alert: Alert, kind: NotificationKind = NotificationKind.FIRING) -> Notification:
    return Notification("n-1", kind, alert.audience, f"{alert.audience} x", (alert,), alert.since)


def test_times_are_shown_in_wita() -> None:
    # 19:14 UTC on the 2nd is 03:14 on the 3rd in Sangatta (UTC+8).
    assert wita(samples.AT, "id") == "3 Des 2026 03:14 WITA"
    assert wita(samples.AT, "en") == "3 Dec 2026 03:14 WITA"
    assert wita(None) == "-"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("id", ["Lokasi", "Gedung", "Perangkat", "Port/item", "Sejak", "Nilai saat ini"]),
        ("en", ["Site", "Building", "Device", "Port/item", "Since", "Current value"]),
    ],
)
def test_every_field_is_in_the_text_and_the_html(language: str, words: list[str]) -> None:
    renderer = Renderer(language)  # type: ignore[arg-type]
    port = samples.alerts()[1]
    message = renderer.render(one(port))
    for body in (message.text, message.html):
        for word in words:
            assert word in body
        for value in ("bukit-pelangi", "Diskominfo", "gw-diskominfo", "sw-core", "ge-0/0/1"):
            assert value in body
        assert "3 " in body
        assert "03:02 WITA" in body
        assert "down" in body  # the current value
        assert "uplink lantai 2" in body  # an extra label
        hint = phrases_module.RULES["port_down"][language][1]
        assert hint in body
    title = phrases_module.RULES["port_down"][language][0]
    assert message.subject.endswith(
        f"{title}: bukit-pelangi / Diskominfo / gw-diskominfo / sw-core / ge-0/0/1"
    )


def test_subjects_say_the_kind_and_a_critical_alert_says_so() -> None:
    door, port, gateway = samples.alerts()
    renderer = Renderer("id")
    assert renderer.render(one(door)).subject.startswith("[AKTIF · KRITIS] Pintu terbuka terlalu")
    assert renderer.render(one(port)).subject.startswith("[AKTIF] Port switch mati")
    resolved = renderer.render(one(gateway, NotificationKind.RESOLVED))
    assert resolved.subject.startswith("[PULIH] Gateway offline")
    assert "Pulih pada" in resolved.text
    repeat = Renderer("en").render(one(port, NotificationKind.REPEAT))
    assert repeat.subject.startswith("[STILL FIRING]")


def test_a_grouped_notification_counts_its_alerts_in_the_subject() -> None:
    port = samples.alerts()[1]
    ports = tuple(
        dataclasses.replace(port, key=dataclasses.replace(port.key, item=f"ge-0/0/{n}"))
        for n in range(50)
    )
    notification = Notification(
        "n-2", NotificationKind.FIRING, port.audience, "it bukit-pelangi", ports, port.since
    )
    message = Renderer("id").render(notification)
    assert message.subject == "[AKTIF] 50 peringatan aktif: it bukit-pelangi"
    assert all(f"ge-0/0/{n}\n" in message.text for n in range(50))


def test_html_escapes_hostile_names_and_the_text_keeps_them() -> None:
    door = samples.alerts()[0]
    hostile = dataclasses.replace(
        door,
        key=AlertKey(door.key.rule, door.key.site, door.key.gateway, HOSTILE),
        value=HOSTILE,
        labels={"building": HOSTILE, "note\r\nBcc": HOSTILE},
    )
    message = Renderer("id").render(one(hostile))
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in message.html
    assert HOSTILE in message.text
    assert "\r" not in message.subject
    assert "\n" not in message.subject


def test_hints_come_from_the_alert_then_the_settings_then_the_rule() -> None:
    port = samples.alerts()[1]
    configured = Renderer("id", hints={"port_down": "Cek rak lantai 2."})
    assert "Cek rak lantai 2." in configured.render(one(port)).text
    own = dataclasses.replace(port, labels={"hint": "Hubungi vendor."})
    assert "Hubungi vendor." in configured.render(one(own)).text
    unknown = dataclasses.replace(port, key=dataclasses.replace(port.key, rule="rule_baru"))
    text = Renderer("en").render(one(unknown)).text
    assert "* rule_baru" in text
    assert phrases_module.GENERIC_HINT["en"] in text


def test_the_test_message_renders_in_both_languages() -> None:
    assert Renderer("id").render_test().subject == "Pesan uji Pelangi"
    english = Renderer("en").render_test()
    assert "email delivery works" in english.text
    assert '<html lang="en">' in english.html


def test_check_templates_finds_nothing_wrong_in_the_shipped_templates() -> None:
    assert check_templates() == []


def test_check_templates_finds_a_phrase_missing_in_one_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(phrases_module.PHRASES["en"], "check_first")
    problems = check_templates()
    assert problems
    assert all(p.startswith("[en] template ") for p in problems)
    assert any("check_first" in p for p in problems)


def test_a_missing_template_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match=r"template nope\.txt\.j2"):
        Renderer().render_template("nope.txt.j2", {})


def test_the_digest_lists_every_section_and_draws_bars_in_html() -> None:
    message = Renderer("id").render_digest(samples.digest())
    assert message.subject == "Ringkasan harian Pelangi 3 Des 2026"
    text = message.text
    assert "Peringatan yang masih aktif: 2" in text
    assert "Gateway offline: 1" in text
    assert "bukit-pelangi / Bappeda / gw-bappeda" in text
    assert "pintu-belakang: dibuka 3 Des 2026 00:14 WITA, ditutup 3 Des 2026 02:14 WITA" in text
    assert "Sekretariat Daerah: Hadir 112, Terlambat 9, Tidak hadir 3, Cuti/izin 6" in text
    # 112 of 130 present: the green part is 86.2 % wide; an empty unit draws no part at all.
    widths = re.findall(r"background:#[0-9a-f]{6};width:([0-9.]+)%", message.html)
    assert widths[:4] == ["86.2", "6.9", "2.3", "4.6"]
    assert len(widths) == 4 + 3  # Diskominfo has nobody absent: 3 parts; the empty unit none
    assert abs(sum(float(w) for w in widths[:4]) - 100) < 0.3


def test_a_digest_with_nothing_to_report_says_so() -> None:
    empty = dataclasses.replace(
        samples.digest(),
        open_alerts=(),
        gateways_offline=(),
        doors_open_overnight=(),
        attendance=(),
    )
    text = Renderer("en").render_digest(empty).text
    assert text.count("\nnone\n") == 4
