"""Pure parts of receipt mode: presence with confirming collectors, the receipt memory,
parsing presence and receipts, PUBACK bookkeeping, the fallback's receipt cycle, and
collectors answering births with a fresh presence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.presence import BirthAnswers, is_status_topic, presence_payload, presence_properties
from edge_agent.outbox import OutboxEntry
from edge_agent.uplink.fallback import Fallback
from edge_agent.uplink.gate import SendGate
from edge_agent.uplink.memory import ReceiptMemory
from edge_agent.uplink.messages import parse_presence, parse_receipt, user_property
from edge_agent.uplink.presence import Presence
from edge_agent.uplink.pubacks import Pubacks
from pelangi.errors import PayloadError
from pelangi.receipts import encode_receipt, receipts_for

if TYPE_CHECKING:
    from pathlib import Path

TS = 1_764_300_000_000_000_000


def test_a_confirming_collector_switches_receipt_mode_on_once() -> None:
    presence = Presence("any")
    presence.settle()
    assert not presence.update("old", online=True)
    assert presence.may_send()
    assert not presence.receipts
    assert presence.update("new", online=True, confirms=True)
    assert presence.receipts
    assert not presence.update("new", online=True, confirms=True)  # only the first switch


def test_in_receipt_mode_only_confirming_collectors_count() -> None:
    presence = Presence("any", receipts=True)
    presence.settle()
    assert not presence.may_send()  # an empty broker: wait, never trust the PUBACK
    assert "no collector has announced itself" in presence.waiting_for()
    presence.update("old", online=True)
    assert not presence.may_send()
    assert "no collector that confirms receipts is online (old online)" in presence.waiting_for()
    presence.update("new", online=True, confirms=True)
    assert presence.may_send()
    presence.update("new", online=False)
    assert not presence.may_send()


def test_listed_collectors_must_all_be_online_and_one_confirm_in_receipt_mode() -> None:
    presence = Presence(("c1", "c2"), receipts=True)
    presence.settle()
    presence.update("c1", online=True)
    presence.update("c2", online=True)
    assert not presence.may_send()
    assert presence.waiting_for() == "none of c1, c2 confirms receipts"
    presence.update("c1", online=True, confirms=True)  # a rolling upgrade: c2 still old
    assert presence.may_send()
    presence.update("c2", online=False)
    assert not presence.may_send()
    assert presence.waiting_for() == "waiting for collector(s) c2 to be online"


def test_none_never_waits_even_in_receipt_mode() -> None:
    assert Presence("none", receipts=True).may_send()


def test_receipt_mode_is_remembered_across_restarts(tmp_path: Path) -> None:
    memory = ReceiptMemory(tmp_path / "state")
    assert not memory.recall()
    gate = SendGate(Presence("any"), "127.0.0.1:1", memory=memory)
    assert not gate.receipt_mode
    gate.connected(20)
    gate.presence(
        parse_presence("c1", presence_payload("c1", online=True, ts=TS), _props(), retained=True)
    )
    assert gate.receipt_mode
    assert memory.recall()
    assert "c1" in memory.path.read_text(encoding="ascii")
    again = SendGate(Presence("any"), "127.0.0.1:1", memory=ReceiptMemory(tmp_path / "state"))
    assert again.receipt_mode  # before any collector is seen


def test_an_unwritable_memory_is_logged_and_the_mode_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    memory = ReceiptMemory(blocker)
    gate = SendGate(Presence("any"), "127.0.0.1:1", memory=memory)
    gate.presence(
        parse_presence("c1", presence_payload("c1", online=True, ts=TS), _props(), retained=False)
    )
    assert gate.receipt_mode
    assert f"cannot save {memory.path}" in caplog.text


def test_only_a_fresh_online_presence_is_a_time_signal() -> None:
    signals: list[tuple[int, int, int]] = []
    gate = SendGate(Presence("any"), "x", time_signal=lambda *s: signals.append(s))
    online = presence_payload("c1", online=True, ts=TS)
    gate.presence(parse_presence("c1", online, _props(), retained=True))
    gate.presence(
        parse_presence("c1", presence_payload("c1", online=False, ts=TS), None, retained=False)
    )
    assert signals == []
    gate.presence(parse_presence("c1", online, _props(), retained=False))
    assert [s[0] for s in signals] == [TS]


def test_presence_parsing_reads_the_user_property_and_refuses_garbage() -> None:
    message = parse_presence(
        "c1", presence_payload("c1", online=True, ts=TS), _props(), retained=False
    )
    assert (message.online, message.confirms, message.ts, message.fresh) == (True, True, TS, True)
    plain = parse_presence("c1", presence_payload("c1", online=True, ts=TS), None, retained=True)
    assert (plain.confirms, plain.fresh) == (False, False)
    cleared = parse_presence("c1", b"", None, retained=True)
    assert cleared.online is None
    with pytest.raises(PayloadError, match="online"):
        parse_presence("c1", b'{"v":1,"collector":"c1","ts":1}', None, retained=False)
    assert user_property(None, "x") is None


def test_receipts_parse_and_refuse_garbage() -> None:
    (receipt,) = receipts_for("c1", TS, [1, 2, 3, 7])
    assert parse_receipt(encode_receipt(receipt)).seqs == ((1, 3), (7, 7))
    with pytest.raises(PayloadError):
        parse_receipt(b'{"v":1,"collector":"c1","ts":1,"seqs":[[5,2]]}')
    with pytest.raises(PayloadError):
        parse_receipt(b"\xff not json")


def test_a_puback_before_publish_returns_is_kept_for_it() -> None:
    book: Pubacks[str] = Pubacks()
    assert book.answered(7, "ok") is None  # the answer beat publish() returning
    assert book.sent(7, 42, "t") == "ok"
    assert book.sent(8, 43, "u") is None
    assert book.answered(8, "ok") == (43, "u")
    book.sent(9, 44, "v")
    book.clear()
    assert book.answered(9, "ok") is None


def _entries(*seqs: int) -> list[OutboxEntry]:
    return [OutboxEntry("rfid", b'{"seq":%d}' % s, is_event=True, ts=TS + s, seq=s) for s in seqs]


def test_the_fallback_keeps_what_no_receipt_named_and_sends_it_again() -> None:
    fallback = Fallback(100, confirm_timeout_s=5.0)
    fallback.put("rfid", _entries(1, 2, 3), now=0.0)
    (batch,) = fallback.take(16, now=0.0, live_window_s=5.0)
    fallback.published(batch.id, now=1.0)
    assert fallback.take(16, now=2.0, live_window_s=5.0) == []  # awaiting a receipt
    assert fallback.confirm([(1, 2)]) == 2
    assert fallback.stats().held == 1
    (again,) = fallback.take(16, now=6.5, live_window_s=5.0)  # overdue: out again
    assert again.seqs == (3,)
    fallback.published(again.id, now=7.0)
    assert fallback.confirm([(3, 3)]) == 1
    stats = fallback.stats()
    assert (stats.held, stats.delivered) == (0, 3)
    assert fallback.take(16, now=100.0, live_window_s=5.0) == []


def _props() -> Properties:
    properties = presence_properties(10.0)
    assert isinstance(properties, Properties)
    assert properties.packetType == PacketTypes.PUBLISH
    return properties


def test_births_are_answered_within_a_second_and_at_most_once_a_second() -> None:
    answers = BirthAnswers()
    assert not answers.due(0.0)
    answers.birth(10.0)  # nothing announced for long: answer at once
    assert answers.due(10.0)
    answers.announced(10.0)
    assert not answers.due(10.05)
    answers.birth(10.2)
    answers.birth(10.5)  # 50 gateways back together: one answer serves them all
    assert not answers.due(10.9)
    assert answers.due(11.0)
    answers.announced(11.0)
    assert not answers.due(20.0)  # every birth answered


def test_only_a_gateway_status_topic_counts_as_a_birth() -> None:
    assert is_status_topic(b"pelangi/bukit-pelangi/gw-1/status")
    assert not is_status_topic(b"pelangi/bukit-pelangi/gw-1/reading/status")
    assert not is_status_topic(b"pelangi-host/c1/state")


def test_readings_awaiting_a_receipt_move_into_the_outbox_with_the_waiting_ones() -> None:
    fallback = Fallback(100, confirm_timeout_s=5.0)
    fallback.put("rfid", _entries(1), now=0.0)
    fallback.put("rfid", _entries(2), now=0.0)
    first, _ = fallback.take(16, now=0.0, live_window_s=5.0)
    fallback.published(first.id, now=1.0)  # the broker has it; no receipt yet
    fallback.release_all()  # the other one was in flight: waiting again
    moved = fallback.take_waiting()  # the disk stores again; no collector is online
    assert [e.seq for item in moved for e in item.entries] == [1, 2]
    assert fallback.stats().held == 0
