"""The engine process's state as one JSON document, and back. Pure.

What :meth:`collector.alerts.store.AlertStore.apply` saves beside the alert rows, in the
same transaction: the engine's :class:`~collector.alerts.state.Snapshot` (alerts, tracks,
settling causes, the rule families' memos) and the grouper's
:meth:`~collector.alerts.notify.grouping.Grouper.export`. Restored together they are the
engine as it stood right after its last durable step, which is all a restarted (or
taking-over) engine needs to neither re-send nor forget: every message acknowledged to the
broker had its effects in that document.

Times are ISO 8601 strings (aware, UTC); alerts and keys use :mod:`.notify.codec`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from collector.alerts.codec import alert_from_json, alert_to_json, key_from_json, key_to_json
from collector.alerts.state import Memo, Snapshot, Track

if TYPE_CHECKING:
    from collections.abc import Mapping

VERSION: Final = 1


class StateFormatError(ValueError):
    """A stored state document is of another version or malformed."""


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _track_to_json(track: Track) -> dict[str, Any]:
    return {
        "key": key_to_json(track.key),
        "active": track.active,
        "last_data": track.last_data.isoformat(),
        "last_at": _time(track.last_at),
        "clear_since": _time(track.clear_since),
    }


def _track_from_json(data: Mapping[str, Any]) -> Track:
    return Track(
        key=key_from_json(data["key"]),
        active=bool(data["active"]),
        last_data=datetime.fromisoformat(data["last_data"]),
        last_at=_parse(data["last_at"]),
        clear_since=_parse(data["clear_since"]),
    )


def _memo_to_json(memo: Memo) -> dict[str, Any]:
    return {
        "family": memo.family,
        "kind": memo.kind,
        "subject": list(memo.subject),
        "at": _time(memo.at),
        "number": memo.number,
        "text": memo.text,
    }


def _memo_from_json(data: Mapping[str, Any]) -> Memo:
    number = data["number"]
    return Memo(
        family=str(data["family"]),
        kind=str(data["kind"]),
        subject=tuple(str(part) for part in data["subject"]),
        at=_parse(data["at"]),
        number=None if number is None else float(number),
        text=str(data["text"]),
    )


def encode(snapshot: Snapshot, grouping: Mapping[str, Any]) -> dict[str, Any]:
    """The document for ``snapshot`` and the grouper's exported state."""
    return {
        "version": VERSION,
        "engine": {
            "alerts": [alert_to_json(alert) for alert in snapshot.alerts],
            "tracks": [_track_to_json(track) for track in snapshot.tracks],
            "settling": [
                {"key": key_to_json(key), "until": until.isoformat()}
                for key, until in snapshot.settling
            ],
            "memos": [_memo_to_json(memo) for memo in snapshot.memos],
            "now": _time(snapshot.now),
        },
        "grouping": dict(grouping),
    }


def decode(document: Mapping[str, Any]) -> tuple[Snapshot, dict[str, Any]]:
    """The snapshot and the grouper's state of a document made by :func:`encode`.

    Raises:
        StateFormatError: another version, or not made by :func:`encode`.
    """
    if document.get("version") != VERSION:
        raise StateFormatError(
            f"expected alert engine state version {VERSION}, got {document.get('version')!r}"
        )
    try:
        engine = document["engine"]
        snapshot = Snapshot(
            alerts=tuple(alert_from_json(item) for item in engine["alerts"]),
            tracks=tuple(_track_from_json(item) for item in engine["tracks"]),
            settling=tuple(
                (key_from_json(item["key"]), datetime.fromisoformat(item["until"]))
                for item in engine["settling"]
            ),
            memos=tuple(_memo_from_json(item) for item in engine["memos"]),
            now=_parse(engine["now"]),
        )
        grouping = dict(document["grouping"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFormatError(
            f"malformed alert engine state: {type(exc).__name__}: {exc}"
        ) from None
    return snapshot, grouping


__all__ = ["VERSION", "StateFormatError", "decode", "encode"]
