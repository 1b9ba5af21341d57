"""Read a switch's system group and interface table over SNMP.

One poll is a column walk with GETBULK: every request asks for all columns at once
(``max_repetitions`` rows of each), and carries sysUpTime and sysName as non-repeaters,
so each response brings its own agent clock. How a request travels (own v2c codec, or
pysnmp for v3) is :mod:`edge_agent.snmp.transport`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.snmp.mib import COLUMNS
from edge_agent.snmp.table import InterfaceRow, build_rows
from edge_agent.snmp.transport import (
    SnmpError,
    V2cAuth,
    V3Auth,
    transport_for,
)

Oid = tuple[int, ...]

__all__ = ["SnmpError", "SwitchClient", "SwitchPoll", "V2cAuth", "V3Auth"]


@dataclass(frozen=True, slots=True)
class SwitchPoll:
    """What one poll of a switch returned."""

    uptime_ticks: int
    sys_name: str | None
    interfaces: dict[int, InterfaceRow]
    requests: int


class SwitchClient:
    """Polls one switch; reusable across polls (keeps its socket)."""

    def __init__(  # noqa: PLR0913 - each is a distinct SNMP transport setting
        self,
        host: str,
        port: int,
        auth: V2cAuth | V3Auth,
        *,
        timeout_s: float = 2.0,
        retries: int = 1,
        max_repetitions: int = 25,
    ) -> None:
        """Prepare (not contact) a client for the agent at ``host:port``."""
        self.host = host
        self.port = port
        self._max_repetitions = max_repetitions
        self._transport = transport_for(host, port, auth, timeout_s, retries)

    async def poll(self) -> SwitchPoll:
        """Read sysUpTime, sysName and every interface column.

        Raises:
            SnmpError: timeout, or an error status from the agent.
        """
        cursors: dict[str, Oid] = dict(COLUMNS)
        cells: list[tuple[Oid, int | str]] = []
        uptime: int | None = None
        sys_name: str | None = None
        requests = 0
        while cursors:
            names = list(cursors)
            try:
                scalars, table = await self._transport.bulk(
                    [cursors[name] for name in names], self._max_repetitions
                )
            except SnmpError as exc:
                raise SnmpError(f"{self.host}:{self.port}: {exc}") from None
            requests += 1
            if uptime is None:
                uptime_value, sys_name_value = scalars
                if not isinstance(uptime_value, int):
                    raise SnmpError(f"{self.host}:{self.port} sent no sysUpTime")
                uptime = uptime_value
                sys_name = sys_name_value if isinstance(sys_name_value, str) else None
            cursors = self._advance(names, cursors, table, cells)
        return SwitchPoll(
            uptime_ticks=uptime or 0,
            sys_name=sys_name,
            interfaces=build_rows(cells),
            requests=requests,
        )

    def _advance(
        self,
        names: list[str],
        cursors: dict[str, Oid],
        table: list[tuple[Oid, int | str | None]],
        cells: list[tuple[Oid, int | str]],
    ) -> dict[str, Oid]:
        """Collect the cells of one response; return the columns that still have rows."""
        width = len(names)
        finished: set[str] = set()
        advanced: set[str] = set()
        for position, (oid, value) in enumerate(table):
            name = names[position % width]
            column = COLUMNS[name]
            if name in finished:
                continue
            if value is None or oid[: len(column)] != column:
                finished.add(name)  # left its column (or the MIB view): this column is done
                continue
            cells.append((oid, value))
            cursors[name] = oid
            advanced.add(name)
        # A column that got no cell at all in a response would loop for ever: stop it.
        return {name: cursors[name] for name in names if name in advanced and name not in finished}

    def close(self) -> None:
        """Release the socket (call on the event loop that used it)."""
        self._transport.close()
