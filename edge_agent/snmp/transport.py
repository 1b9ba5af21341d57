"""How one GETBULK request travels: the own v2c codec over asyncio UDP, or pysnmp for v3.

Both transports answer the same question: "send GETBULK for these OIDs, with sysUpTime and
sysName as non-repeaters; give back their values and the table cells". SNMPv2c goes through
:mod:`edge_agent.snmp.ber` (about 20x cheaper per value than pysnmp's generic decoder);
SNMPv3 needs USM authentication and privacy, which pysnmp provides.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol

from edge_agent.errors import AgentError
from edge_agent.snmp.ber import BerError, Oid, Value, decode_response, encode_get_bulk
from edge_agent.snmp.mib import SYS_NAME, SYS_UPTIME

if TYPE_CHECKING:
    from collections.abc import Sequence

SCALARS: Final = (SYS_UPTIME[:-1], SYS_NAME[:-1])
"""Asked as non-repeaters in every request: GETNEXT of these gives sysUpTime.0, sysName.0."""
NO_RESPONSE: Final = "No SNMP response received before timeout"
_ERROR_STATUS: Final = {
    1: "tooBig",
    2: "noSuchName",
    3: "badValue",
    4: "readOnly",
    5: "genErr",
    6: "noAccess",
    16: "authorizationError",
}


class SnmpError(AgentError):
    """A switch did not answer, or answered with an SNMP error."""


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


BulkResult = tuple[list[Value], list[tuple[Oid, Value]]]
"""The non-repeaters' values, then the table cells in request order, row after row."""


class BulkTransport(Protocol):
    """Sends one GETBULK and returns :data:`BulkResult`."""

    async def bulk(self, oids: Sequence[Oid], max_repetitions: int) -> BulkResult:
        """Ask for ``max_repetitions`` rows of each of ``oids``."""
        ...

    def close(self) -> None:
        """Release the socket."""
        ...


class _Datagrams(asyncio.DatagramProtocol):
    """Hands each decoded response to the request waiting for its request-id."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[BulkResult | SnmpError]] = {}
        self.malformed = 0

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        del addr
        try:
            response = decode_response(data)
        except BerError:
            self.malformed += 1  # not ours to crash on: the request times out and retries
            return
        future = self.waiting.pop(response.request_id, None)
        if future is None or future.done():
            return  # a late answer to a request we already retried
        if response.error_status:
            status = _ERROR_STATUS.get(response.error_status, str(response.error_status))
            future.set_result(
                SnmpError(f"agent answered {status} at varbind {response.error_index}")
            )
            return
        values = response.varbinds
        future.set_result(([value for _, value in values[:2]], values[2:]))


class V2cTransport:
    """GETBULK over UDP with the own codec; retries on timeout, matches by request-id."""

    def __init__(self, host: str, port: int, auth: V2cAuth, timeout_s: float, retries: int) -> None:
        """Prepare (not open) a socket towards ``host:port``."""
        self._address = (host, port)
        self._community = auth.community
        self._timeout_s = timeout_s
        self._retries = retries
        self._ids = itertools.count(random.randrange(1, 2**30))  # noqa: S311 - not a secret
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol = _Datagrams()

    async def bulk(self, oids: Sequence[Oid], max_repetitions: int) -> BulkResult:
        """See :class:`BulkTransport`; raises :class:`SnmpError` on timeout or error status."""
        if self._transport is None:
            loop = asyncio.get_running_loop()
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: self._protocol, remote_addr=self._address
            )
        for _attempt in range(self._retries + 1):
            request_id = next(self._ids) & 0x7FFFFFFF
            future: asyncio.Future[BulkResult | SnmpError] = (
                asyncio.get_running_loop().create_future()
            )
            self._protocol.waiting[request_id] = future
            self._transport.sendto(
                encode_get_bulk(
                    self._community,
                    request_id,
                    len(SCALARS),
                    max_repetitions,
                    [*SCALARS, *oids],
                )
            )
            try:
                result = await asyncio.wait_for(future, self._timeout_s)
            except TimeoutError:
                continue
            finally:
                self._protocol.waiting.pop(request_id, None)
            if isinstance(result, SnmpError):
                raise result
            return result
        raise SnmpError(NO_RESPONSE)

    def close(self) -> None:
        """Close the socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def transport_for(
    host: str, port: int, auth: V2cAuth | V3Auth, timeout_s: float, retries: int
) -> BulkTransport:
    """The transport for ``auth``'s SNMP version."""
    if isinstance(auth, V2cAuth):
        return V2cTransport(host, port, auth, timeout_s, retries)
    # pysnmp costs ~12 MB of memory: load it only when a switch speaks SNMPv3.
    from edge_agent.snmp.v3 import PysnmpTransport  # noqa: PLC0415

    return PysnmpTransport(host, port, auth, timeout_s, retries)
