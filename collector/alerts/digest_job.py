"""Making the daily digest in the running engine: once a day, InfluxDB read off its loop.

:class:`DigestJob` is asked by the engine loop every tick (:meth:`DigestJob.due`). Once
:func:`~collector.alerts.digest_plan.due_day` says today's digest is due, it checks the
store (a digest queued or sent already, by this engine before a restart or by the one it
took over from, is not made again), then reads the night's doors and yesterday's
attendance from InfluxDB on a worker thread: a slow or absent InfluxDB must not hold up
the alerts. When the reads are back it hands the loop the notifications, which the loop
stores with its next transaction like any other.

InfluxDB failing: each read is tried :data:`READ_ATTEMPTS` times, :data:`READ_RETRY_S`
apart; then the digest goes out without that section, saying it could not be read
(never an empty list, which would read as "no door was left open").

:class:`InfluxDigestSource` is the InfluxQL (InfluxDB 1.x, as the attendance job): the
door *changes* in the night and the week before it, plus each door's last reading before
the night (a door open since the afternoon); ``attendance_day`` counts per unit and status.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Protocol

from collector.alerts import digest_plan
from collector.alerts.digest_plan import DoorState, StatusCount
from collector.attendance.taps import ATTENDANCE_DAY, EPOCH, epoch_ns
from collector.errors import CollectorError
from collector.storage.points import DOOR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import date, datetime

    from collector.alerts.config import AlertsSection
    from collector.alerts.model import Alert, Notification
    from collector.alerts.notify.digest import DoorOpenOvernight, UnitAttendance
    from collector.storage.influx_v1 import InfluxV1Writer

log = logging.getLogger(__name__)

READ_ATTEMPTS: Final = 3
READ_RETRY_S: Final = 60.0
DOOR_LOOKBACK: Final = timedelta(days=7)
"""How far before the night a door's opening is looked for (older: shown from then)."""


class DigestSource(Protocol):
    """Where the digest's stored parts come from."""

    def door_states(self, start: datetime, end: datetime) -> list[DoorState]:
        """The door readings :func:`~.digest_plan.doors_open` needs for ``[start, end)``."""
        ...

    def status_counts(self, start: datetime, end: datetime) -> list[StatusCount]:
        """``attendance_day`` counts per unit and status for ``[start, end)``."""
        ...


class InfluxDigestSource:
    """:class:`DigestSource` over InfluxDB 1.x (see the module docstring)."""

    def __init__(self, writer: InfluxV1Writer) -> None:
        """Read through ``writer``'s connection, database and retention policy."""
        self._writer = writer

    def door_states(self, start: datetime, end: datetime) -> list[DoorState]:
        """See :meth:`DigestSource.door_states`. Raises StorageError."""
        door = self._writer.measurement(DOOR)
        since, begin, until = epoch_ns(start - DOOR_LOOKBACK), epoch_ns(start), epoch_ns(end)
        by = 'GROUP BY "site", "gateway", "device"'
        # S608: the measurement is quoted by the writer and the bounds are integers.
        rows = self._writer.select(
            f'SELECT last("state") AS "state" FROM {door} '  # noqa: S608
            f"WHERE time >= {since} AND time < {begin} {by}"
        )
        rows += self._writer.select(
            f'SELECT "state" FROM {door} WHERE "change" = true '  # noqa: S608
            f"AND time >= {since} AND time < {until} {by}"
        )
        return [
            DoorState(
                str(row["site"]),
                str(row["gateway"]),
                str(row["device"]),
                _instant(int(row["time"])),
                str(row["state"]),
            )
            for row in rows
            if row.get("state") is not None
        ]

    def status_counts(self, start: datetime, end: datetime) -> list[StatusCount]:
        """See :meth:`DigestSource.status_counts`. Raises StorageError."""
        days = self._writer.measurement(ATTENDANCE_DAY)
        within = f"time >= {epoch_ns(start)} AND time < {epoch_ns(end)}"
        # S608: as above.
        counts = self._writer.select(
            f'SELECT count("employee") AS "n" FROM {days} '  # noqa: S608
            f'WHERE {within} GROUP BY "unit", "status"'
        )
        late = {
            str(row["unit"]): int(row["n"])
            for row in self._writer.select(
                f'SELECT count("employee") AS "n" FROM {days} '  # noqa: S608
                f'WHERE {within} AND "status" = \'H\' AND "tl" > 0 GROUP BY "unit"'
            )
        }
        return [
            StatusCount(
                unit=str(row["unit"]),
                status=str(row["status"]),
                count=int(row["n"]),
                late=late.get(str(row["unit"]), 0) if row["status"] == "H" else 0,
            )
            for row in counts
        ]


def _instant(ns: int) -> datetime:
    """Nanoseconds since the epoch as an aware UTC datetime (to the microsecond)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


class _Reads:
    """One day's reads from InfluxDB, with their failures (None: not read)."""

    def __init__(self) -> None:
        self.doors: tuple[DoorOpenOvernight, ...] | None = None
        self.attendance: tuple[UnitAttendance, ...] | None = None
        self.attempts = 0
        self.retry_at = 0.0

    @property
    def complete(self) -> bool:
        return self.doors is not None and self.attendance is not None


class DigestJob:
    """The digest of each day, made once (see the module docstring)."""

    def __init__(
        self,
        settings: AlertsSection,
        source: DigestSource | None,
        known: Callable[[list[str]], set[str]],
        unit_names: Mapping[str, str],
        *,
        retry_s: float = READ_RETRY_S,
    ) -> None:
        """Make digests per ``settings.notify.digest``.

        Args:
            settings: the ``alerts:`` section (digest timings and audiences, buildings).
            source: the stored parts (None: no InfluxDB 1.x; those sections say so).
            known: which of these notification ids the store holds (queued or sent).
            unit_names: unit code -> name, for the attendance section.
            retry_s: how long after a failed read it is tried again.
        """
        self._settings = settings
        self._digest = settings.notify.digest
        self._source = source
        self._known = known
        self._unit_names = unit_names
        self._retry_s = retry_s
        self._made: date | None = None
        self._day: date | None = None
        self._reads = _Reads()
        self._future: Future[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-digest")

    def due(self, now: datetime, alerts: Callable[[], Iterable[Alert]]) -> list[Notification]:
        """Today's digest notifications if they are due and ready now, else nothing.

        Raises:
            CollectorError: the store could not say whether the digest is queued (asked
                again at the next call).
        """
        day = digest_plan.due_day(now, self._digest)
        if day is None or day == self._made:
            return []
        if day != self._day:
            if self._already_made(day):
                return []
            self._day, self._reads = day, _Reads()
        if self._future is not None:
            if not self._future.done():
                return []
            self._future = None
        reads = self._reads
        if not reads.complete and self._source is not None and reads.attempts < READ_ATTEMPTS:
            if time.monotonic() >= reads.retry_at:
                self._future = self._pool.submit(self._read, day, reads)
            return []
        digest = digest_plan.make_digest(day, now, alerts(), reads.doors, reads.attendance)
        self._made = day
        log.info(
            "daily digest %s made: %d open alerts, %d doors open overnight%s",
            day,
            len(digest.open_alerts),
            len(digest.doors_open_overnight),
            f"; not read from InfluxDB: {', '.join(digest.unavailable)}"
            if digest.unavailable
            else "",
        )
        return digest_plan.digest_notifications(digest, self._digest.audiences)

    def _already_made(self, day: date) -> bool:
        ids = [digest_plan.notification_id(day, audience) for audience in self._digest.audiences]
        if set(ids) <= self._known(ids):
            self._made = day
            return True
        return False

    def _read(self, day: date, reads: _Reads) -> None:
        """On the worker: read what is missing; a failure leaves it None and sets a retry."""
        assert self._source is not None  # noqa: S101 - submitted only with a source
        reads.attempts += 1
        try:
            if reads.doors is None:
                start, end = digest_plan.night(day, self._digest)
                states = self._source.door_states(start, end)
                reads.doors = digest_plan.doors_open(states, start, end, self._settings.building_of)
            if reads.attendance is None:
                _, start, end = digest_plan.yesterday(day)
                counts = self._source.status_counts(start, end)
                reads.attendance = digest_plan.unit_totals(counts, self._unit_names)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the digest still goes out
            reads.retry_at = time.monotonic() + self._retry_s
            last = reads.attempts >= READ_ATTEMPTS
            log.warning(
                "daily digest %s: InfluxDB not read (attempt %d of %d): %s%s",
                day,
                reads.attempts,
                READ_ATTEMPTS,
                exc if isinstance(exc, CollectorError) else f"{type(exc).__name__}: {exc}",
                "; it goes out without those sections" if last else "",
            )

    def close(self) -> None:
        """Stop the worker (a read under way is abandoned: the next engine reads again)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["DOOR_LOOKBACK", "DigestJob", "DigestSource", "InfluxDigestSource"]
