"""Replaying dead letters once their cause is fixed: what each one would become. Pure.

A dead letter (:mod:`collector.deadletter`) read back from InfluxDB is judged with the
*current* settings (:func:`judge`), exactly as the subscriber would judge it arriving now:

- a whole message: its topic and payload go through the contract, the time window and
  the encoder again (:mod:`collector.intake`'s steps);
- a single reading: it is put back into an envelope of its topic (``historical`` as it
  was) and goes through the same steps;
- a point InfluxDB refused: its line is written again as it is (InfluxDB decides).

It is replayed only if everything in it is now accepted; otherwise it stays, with the
reason it is still refused. Writing the readings is idempotent (same series and time:
a point overwrites itself), so replaying twice stores nothing twice; a dead letter once
replayed carries ``replayed_ns`` (:func:`replayed_mark`) and a second replay says so.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from collector.deadletter import BASE64, MEASUREMENT, STORAGE_REFUSED
from collector.plausibility import TS_IN_FUTURE, TS_TOO_OLD, UNSTORABLE
from collector.storage.lineprotocol import Point, to_line
from collector.validation import validate
from pelangi.errors import PayloadError, RejectReason, TopicError
from pelangi.topics import parse_reading_topic

if TYPE_CHECKING:
    from collector.encoding import LineEncoder
    from collector.plausibility import TimeWindow

MESSAGE_REASONS: Final = frozenset(reason.value for reason in RejectReason)
READING_REASONS: Final = frozenset({TS_IN_FUTURE, TS_TOO_OLD, UNSTORABLE})
REASONS: Final = MESSAGE_REASONS | READING_REASONS | {STORAGE_REFUSED}
"""Every reason a dead letter can have."""

Status = Literal["replay", "refused", "replayed", "unreplayable"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter as stored (see :mod:`collector.deadletter` for the fields)."""

    time_ns: int
    collector: str
    reason: str
    detail: str
    topic: str | None = None
    payload: bytes | None = None
    """The whole payload (or point line), None when it was not kept whole."""
    kept_in_part: str | None = None
    """Why the payload is not whole, if it is not."""
    reading: str | None = None
    historical: bool = False
    seq: int | None = None
    replayed_ns: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DeadLetter:
        """Read one row of ``SELECT * FROM dead_letter`` (times in ns)."""
        payload, kept_in_part = _payload_of(row)
        return cls(
            time_ns=int(row["time"]),
            collector=str(row.get("collector") or ""),
            reason=str(row.get("reason") or ""),
            detail=str(row.get("detail") or ""),
            topic=row.get("topic"),
            payload=payload,
            kept_in_part=kept_in_part,
            reading=row.get("reading"),
            historical=bool(row.get("historical")),
            seq=row.get("seq"),
            replayed_ns=row.get("replayed_ns"),
        )

    def summary(self) -> str:
        """One line for a listing."""
        parts = [_when(self.time_ns), self.collector, self.reason, self.topic or "-"]
        if self.seq is not None:
            parts.append(f"seq {self.seq}")
        parts.append(self.detail)
        if self.replayed_ns is not None:
            parts.append(f"[replayed {_when(self.replayed_ns)}]")
        return "  ".join(parts)

    def as_json(self) -> dict[str, Any]:
        """Everything, for ``--json`` (a payload that is not UTF-8 as base64)."""
        record: dict[str, Any] = {
            "time_ns": self.time_ns,
            "time": _when(self.time_ns),
            "collector": self.collector,
            "reason": self.reason,
            "detail": self.detail,
            "topic": self.topic,
            "seq": self.seq,
            "historical": self.historical,
            "reading": json.loads(self.reading) if self.reading else None,
            "replayed_ns": self.replayed_ns,
        }
        if self.payload is not None:
            try:
                record["payload"] = self.payload.decode("utf-8")
            except UnicodeDecodeError:
                record["payload"] = base64.b64encode(self.payload).decode("ascii")
                record["payload_encoding"] = BASE64
        elif self.kept_in_part is not None:
            record["payload_kept_in_part"] = self.kept_in_part
        return record


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a replay does with one dead letter."""

    letter: DeadLetter
    status: Status
    lines: tuple[str, ...] = ()
    """What to write (``status == "replay"``)."""
    why: str = ""
    """Why it is not replayed, in words (other statuses)."""


def judge(letter: DeadLetter, window: TimeWindow, encoder: LineEncoder, now_ns: int) -> Verdict:
    """What replaying ``letter`` at ``now_ns`` with these settings would do."""
    if letter.replayed_ns is not None:
        return Verdict(letter, "replayed", why=f"already replayed at {_when(letter.replayed_ns)}")
    if letter.reason == STORAGE_REFUSED:
        return _judge_point(letter)
    if letter.reason in READING_REASONS:
        return _judge_reading(letter, window, encoder, now_ns)
    if letter.reason not in MESSAGE_REASONS:
        return _unreplayable(letter, f"unknown reason {letter.reason!r}")
    if letter.payload is None or letter.topic is None:
        return _unreplayable(letter, letter.kept_in_part or "its payload was not kept")
    return _judge_message(
        letter, letter.topic, letter.payload, window=window, encoder=encoder, now_ns=now_ns
    )


def replayed_mark(letter: DeadLetter, now_ns: int) -> str:
    """The line that marks ``letter`` as replayed (same point: fields merge)."""
    tags = {"collector": letter.collector, "reason": letter.reason}
    return to_line(Point(MEASUREMENT, tags, {"replayed_ns": now_ns}, letter.time_ns))


def _judge_point(letter: DeadLetter) -> Verdict:
    if letter.payload is None:
        return _unreplayable(letter, letter.kept_in_part or "the point was not kept")
    return Verdict(letter, "replay", lines=(letter.payload.decode("utf-8"),))


def _judge_reading(
    letter: DeadLetter, window: TimeWindow, encoder: LineEncoder, now_ns: int
) -> Verdict:
    if letter.reading is None or letter.topic is None:
        return _unreplayable(letter, "only its seq and ts were kept (a dead letter from before)")
    try:
        where = parse_reading_topic(letter.topic)
        reading = json.loads(letter.reading)
    except (TopicError, ValueError) as exc:
        return _unreplayable(letter, f"its topic or reading cannot be read back: {exc}")
    envelope = {
        "v": 1,
        "site": where.site,
        "gateway": where.gateway,
        "device": where.device,
        "historical": letter.historical,
        "readings": [reading],
    }
    payload = json.dumps(envelope).encode()
    return _judge_message(
        letter, letter.topic, payload, window=window, encoder=encoder, now_ns=now_ns
    )


def _judge_message(  # noqa: PLR0913 - the letter, what it holds, and the settings
    letter: DeadLetter,
    topic: str,
    payload: bytes,
    *,
    window: TimeWindow,
    encoder: LineEncoder,
    now_ns: int,
) -> Verdict:
    try:
        envelope = validate(topic, payload)
    except PayloadError as exc:
        return Verdict(letter, "refused", why=f"{exc.reason.value}: {exc.detail}")
    plausible, refused = window.split(envelope.readings, now_ns)
    lines, unstorable = encoder.encode(envelope, plausible)
    if refused or unstorable:
        first = (*refused, *unstorable)[0]
        return Verdict(
            letter, "refused", why=f"{first.reason}: reading seq {first.seq}: {first.detail}"
        )
    return Verdict(letter, "replay", lines=tuple(lines))


def _unreplayable(letter: DeadLetter, why: str) -> Verdict:
    return Verdict(letter, "unreplayable", why=f"cannot be replayed: {why}")


def _payload_of(row: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """The whole payload of a row, or None and why it is not whole."""
    parts: list[str] = []
    while (piece := row.get("payload" if not parts else f"payload_{len(parts) + 1}")) is not None:
        parts.append(str(piece))
    if not parts and row.get("payload_bytes") is None:
        return None, None  # a dead letter without a payload (a single reading)
    text = "".join(parts)
    if row.get("payload_cut"):
        return None, (
            f"only the first {len(text)} characters were kept in InfluxDB "
            "(dead_letter.max_payload_chars); the dead-letter log file has it whole"
        )
    if row.get("payload_bytes") is None:
        return None, "only its start was kept (a dead letter from before whole payloads)"
    payload = base64.b64decode(text) if row.get("payload_encoding") == BASE64 else text.encode()
    expected = row.get("payload_bytes")
    if expected is not None and len(payload) != expected:
        return None, f"{len(payload)} of its {expected} bytes were found"
    return payload, None


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = [
    "MESSAGE_REASONS",
    "READING_REASONS",
    "REASONS",
    "DeadLetter",
    "Verdict",
    "judge",
    "replayed_mark",
]
