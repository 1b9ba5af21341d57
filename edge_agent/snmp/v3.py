"""SNMPv3 (USM authPriv) GETBULK through pysnmp; imported only when a switch needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pysnmp.hlapi.v3arch.asyncio import (
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
from pysnmp.proto.rfc1902 import OctetString
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from edge_agent.snmp.transport import SCALARS, BulkResult, SnmpError, V3Auth

if TYPE_CHECKING:
    from collections.abc import Sequence

    from edge_agent.snmp.ber import Oid, Value


class PysnmpTransport:
    """GETBULK through pysnmp (for SNMPv3 USM authPriv)."""

    def __init__(self, host: str, port: int, auth: V3Auth, timeout_s: float, retries: int) -> None:
        """Prepare (not open) an SNMP engine towards ``host:port``."""
        self._address = (host, port)
        self._auth = UsmUserData(
            auth.user,
            authKey=auth.auth_key,
            privKey=auth.priv_key,
            authProtocol=_AUTH_PROTOCOLS[auth.auth_protocol],
            privProtocol=_PRIV_PROTOCOLS[auth.priv_protocol],
        )
        self._timeout_s = timeout_s
        self._retries = retries
        self._engine = SnmpEngine()
        self._target: UdpTransportTarget | None = None

    async def bulk(self, oids: Sequence[Oid], max_repetitions: int) -> BulkResult:
        """See :class:`BulkTransport`; raises :class:`SnmpError` on timeout or error status."""
        if self._target is None:
            self._target = await UdpTransportTarget.create(
                self._address, timeout=self._timeout_s, retries=self._retries
            )
        error, status, index, var_binds = await bulk_cmd(
            self._engine,
            self._auth,
            self._target,
            ContextData(),
            len(SCALARS),
            max_repetitions,
            *(ObjectType(ObjectIdentity(oid)) for oid in (*SCALARS, *oids)),
            lookupMib=False,
        )
        if error:
            raise SnmpError(str(error))
        if status:
            raise SnmpError(f"agent answered {status.prettyPrint()} at varbind {index}")
        values = [(tuple(vb[0]), _python_value(vb[1])) for vb in var_binds]
        return [value for _, value in values[:2]], values[2:]

    def close(self) -> None:
        """Release the engine's sockets (call on the event loop that used it)."""
        self._engine.close_dispatcher()


_AUTH_PROTOCOLS: Final = {"sha": usmHMACSHAAuthProtocol, "sha256": usmHMAC192SHA256AuthProtocol}
_PRIV_PROTOCOLS: Final = {"aes128": usmAesCfb128Protocol, "aes256": usmAesCfb256Protocol}


def _python_value(value: object) -> Value:
    """Convert a pysnmp value to int or str; None for 'no such' / end-of-view markers."""
    if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
        return None
    if isinstance(value, OctetString):
        # ifAlias is free text typed on the switch: any bytes; never fail on it.
        return bytes(value).decode("utf-8", errors="replace")
    try:
        number: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number
