"""The collector's own metrics as a ``collector_stats`` point, written every few seconds.

(Not while the writer pool's caps are reached: memory stays bounded through a long
outage, and the next point carries the totals.)

Tag ``collector`` (the instance id). Fields, totals since the process started unless
said otherwise: ``messages_in``, ``messages_acked``, ``readings_confirmed`` (in
receipts to the gateways), ``readings_written`` (points,
including dead letters and these stats), ``writes``, ``write_ms_mean`` and
``batch_points_mean`` (since the previous stats point), ``write_ms_max`` and
``batch_points_max`` (since start), ``storage_retries``,
``points_rejected``, ``messages_deferred`` (left with the broker while the caps were
reached), ``reconnects_to_resume`` (to have them sent again), ``rejected.<reason>`` per
message reject reason,
``refused.<reason>`` per refused reading reason, and the gauges ``unacked_messages``
and ``unacked_points`` (held right now). Use ``non_negative_derivative`` for rates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.storage.lineprotocol import FieldValue, Point, to_line
from collector.storage.points import COLLECTOR_STATS

if TYPE_CHECKING:
    from collector.metrics import Snapshot

MEASUREMENT: Final = COLLECTOR_STATS


def stats_line(collector_id: str, now: Snapshot, before: Snapshot | None, time_ns: int) -> str:
    """The ``collector_stats`` line of snapshot ``now`` (``before``: the previous one)."""
    writes = now.writes - (before.writes if before else 0)
    seconds = now.write_seconds - (before.write_seconds if before else 0.0)
    points = now.readings_written - (before.readings_written if before else 0)
    fields: dict[str, FieldValue] = {
        "messages_in": now.messages_received,
        "messages_acked": now.messages_acked,
        "readings_confirmed": now.readings_confirmed,
        "messages_deferred": now.messages_deferred,
        "reconnects_to_resume": now.reconnects_to_resume,
        "readings_written": now.readings_written,
        "writes": now.writes,
        "write_ms_mean": seconds / writes * 1000 if writes else 0.0,
        "write_ms_max": now.write_seconds_max * 1000,
        "batch_points_mean": points / writes if writes else 0.0,
        "batch_points_max": now.batch_points_max,
        "storage_retries": now.storage_retries,
        "points_rejected": now.points_rejected,
        "unacked_messages": now.unacked,
        "unacked_points": now.unacked_points,
    }
    fields |= {f"rejected.{reason}": n for reason, n in now.messages_rejected.items()}
    fields |= {f"refused.{reason}": n for reason, n in now.readings_refused.items()}
    return to_line(Point(MEASUREMENT, {"collector": collector_id}, fields, time_ns))


__all__ = ["MEASUREMENT", "stats_line"]
