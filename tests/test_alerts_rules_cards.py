"""Card rules: an unknown card (optionally N times in M minutes), a card of an inactive employee."""

from __future__ import annotations

from collector.alerts.rules.badges import CardCheck, CardStatus
from sandbox.alerts_rules import (
    EXPIRED_CARD,
    LEAVER_CARD,
    REGISTRY,
    STRANGER_CARD,
    T0,
    VALID_CARD,
    card,
    run,
    seconds,
)

UNKNOWN = "card_unknown"
INACTIVE = "card_inactive"


def test_cards_are_judged_on_the_read_date() -> None:
    check = CardCheck(REGISTRY)
    assert check.judge(card(VALID_CARD, T0)).status is CardStatus.VALID
    assert check.judge(card(STRANGER_CARD, T0)).status is CardStatus.UNKNOWN
    leaver = check.judge(card(LEAVER_CARD, T0))
    assert (leaver.status, leaver.holders) == (CardStatus.INACTIVE, ("E2",))
    assert check.judge(card(EXPIRED_CARD, T0)).status is CardStatus.INACTIVE


def test_an_unknown_card_fires_and_resolves_after_its_window() -> None:
    r = run({UNKNOWN: {"window_s": 600}})
    r.feed(card(STRANGER_CARD, T0))
    assert r.phases(UNKNOWN) == [(UNKNOWN, None, "firing")]
    alert = r.moved[0].alert
    assert (alert.key.device, alert.key.item, alert.audience) == (
        "rfid-lobby",
        STRANGER_CARD,
        "security",
    )
    r.feed(card(STRANGER_CARD, T0 + seconds(300)))  # again: the same alert, longer
    r.tick(T0 + seconds(899))
    assert len(r.moved) == 1
    r.tick(T0 + seconds(901))
    assert r.phases(UNKNOWN)[-1] == (UNKNOWN, "firing", "resolved")


def test_n_times_in_m_minutes() -> None:
    r = run({UNKNOWN: {"count": 3, "window_s": 300}})
    r.feed(card(STRANGER_CARD, T0))
    r.feed(card(STRANGER_CARD, T0 + seconds(100)))
    r.feed(card(STRANGER_CARD, T0 + seconds(350)))  # the first one left the window
    assert not r.moved
    r.feed(card(STRANGER_CARD, T0 + seconds(360)))
    assert r.phases(UNKNOWN) == [(UNKNOWN, None, "firing")]
    assert "3x dalam 5 menit" in r.moved[0].alert.value


def test_a_card_of_an_inactive_employee() -> None:
    r = run()
    r.feed(card(LEAVER_CARD, T0))
    assert r.phases() == [(INACTIVE, None, "firing")]
    assert r.moved[0].alert.labels["holder"] == "Budi Santoso (E2)"


def test_a_valid_card_raises_nothing() -> None:
    r = run()
    r.feed(card(VALID_CARD, T0))
    r.tick(T0 + seconds(3600))
    assert not r.moved


def test_replayed_reads_are_not_counted() -> None:
    r = run()
    r.feed(card(STRANGER_CARD, T0, historical=True))
    r.tick(T0 + seconds(3600))
    assert not r.moved
