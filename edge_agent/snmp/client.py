"""Read a switch's system group and interface table over SNMP (pysnmp 7, asyncio).

One poll is a column walk with GETBULK: every request asks for all columns at once
(``max_repetitions`` rows of each), and carries sysUpTime and sysName as non-repeaters,
so each response brings its own agent clock. A 48-port switch takes one or two round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto.rfc1902 import Integer, OctetString, TimeTicks
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from edge_agent.errors import AgentError
from edge_agent.snmp.mib import COLUMNS, SYS_NAME, SYS_UPTIME
from edge_agent.snmp.table import InterfaceRow, build_rows

Oid = tuple[int, ...]

AUTH_PROTOCOLS = {"sha": usmHMACSHAAuthProtocol, "sha256": usmHMAC192SHA256AuthProtocol}
PRIV_PROTOCOLS = {"aes128": usmAesCfb128Protocol, "aes256": usmAesCfb256Protocol}


class SnmpError(AgentError):
    """A switch did not answer, or answered with an SNMP error."""


@dataclass(frozen=True, slots=True)
class SwitchPoll:
    """What one poll of a switch returned."""

    uptime_ticks: int
    sys_name: str | None
    interfaces: dict[int, InterfaceRow]
    requests: int


@dataclass(frozen=True, slots=True)
class V2cAuth:
    """SNMP v2c: a community string."""

    community: str


@dataclass(frozen=True, slots=True)
class V3Auth:
    """SNMP v3 USM user with authPriv."""

    user: str
    auth_key: str
    priv_key: str
    auth_protocol: Literal["sha", "sha256"] = "sha"
    priv_protocol: Literal["aes128", "aes256"] = "aes128"


def _auth_data(auth: V2cAuth | V3Auth) -> CommunityData | UsmUserData:
    if isinstance(auth, V2cAuth):
        # v2c is what most office switches speak; v3 authPriv is offered and recommended.
        return CommunityData(auth.community, mpModel=1)  # noqa: S508
    return UsmUserData(
        auth.user,
        authKey=auth.auth_key,
        privKey=auth.priv_key,
        authProtocol=AUTH_PROTOCOLS[auth.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[auth.priv_protocol],
    )


def _python_value(value: object) -> int | str | None:
    """Convert a pysnmp value to int or str; None for 'no such' / end-of-view markers."""
    if isinstance(value, (NoSuchObject, NoSuchInstance, EndOfMibView)):
        return None
    if isinstance(value, OctetString):
        # ifAlias is free text typed on the switch: any bytes; never fail on it.
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (Integer, TimeTicks)) or hasattr(value, "__int__"):
        return int(value)  # type: ignore[call-overload,unused-ignore]
    return None


class SwitchClient:
    """Polls one switch; reusable across polls (keeps its SNMP engine and transport)."""

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
        self._auth = _auth_data(auth)
        self._timeout_s = timeout_s
        self._retries = retries
        self._max_repetitions = max_repetitions
        self._engine = SnmpEngine()
        self._target: UdpTransportTarget | None = None

    async def poll(self) -> SwitchPoll:
        """Read sysUpTime, sysName and every interface column.

        Raises:
            SnmpError: timeout, or an error status from the agent.
        """
        if self._target is None:
            self._target = await UdpTransportTarget.create(
                (self.host, self.port), timeout=self._timeout_s, retries=self._retries
            )
        cursors: dict[str, Oid] = dict(COLUMNS)
        cells: list[tuple[Oid, int | str]] = []
        uptime: int | None = None
        sys_name: str | None = None
        requests = 0
        while cursors:
            names = list(cursors)
            scalars, table = await self._bulk([cursors[name] for name in names])
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

    async def _bulk(
        self, oids: list[Oid]
    ) -> tuple[list[int | str | None], list[tuple[Oid, int | str | None]]]:
        assert self._target is not None  # noqa: S101 - set by poll()
        error, status, index, var_binds = await bulk_cmd(
            self._engine,
            self._auth,
            self._target,
            ContextData(),
            2,  # non-repeaters: sysUpTime and sysName, once per response
            self._max_repetitions,
            ObjectType(ObjectIdentity(SYS_UPTIME[:-1])),
            ObjectType(ObjectIdentity(SYS_NAME[:-1])),
            *(ObjectType(ObjectIdentity(oid)) for oid in oids),
            lookupMib=False,
        )
        where = f"{self.host}:{self.port}"
        if error:
            raise SnmpError(f"{where}: {error}")
        if status:
            raise SnmpError(f"{where}: agent answered {status.prettyPrint()} at varbind {index}")
        values = [(tuple(vb[0]), _python_value(vb[1])) for vb in var_binds]
        return [value for _, value in values[:2]], values[2:]

    def close(self) -> None:
        """Release the engine's sockets."""
        self._engine.close_dispatcher()
