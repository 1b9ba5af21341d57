"""A minimal SNMPv2c codec (BER): GetBulkRequest out, Response in. Pure, no IO.

pysnmp decodes every value through pyasn1's generic BER machinery, about 60 µs per value:
a 48-port switch's interface table (some 700 values) costs ~40 ms of CPU per poll. SNMPv2c
messages are simple enough to encode and decode directly, so the v2c poll uses this codec
and pysnmp remains the path for SNMPv3 (USM authentication and privacy).

Message layout (RFC 3416, RFC 1901)::

    Message  ::= SEQUENCE { version INTEGER (1 = v2c), community OCTET STRING, pdu }
    GetBulk  ::= [5] { request-id, non-repeaters, max-repetitions, varbinds }
    Response ::= [2] { request-id, error-status, error-index, varbinds }
    VarBind  ::= SEQUENCE { name OBJECT IDENTIFIER, value }

:func:`decode_response` returns a :class:`Response` or raises :class:`BerError`, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from edge_agent.errors import AgentError

Oid = tuple[int, ...]
Value = int | str | None
"""A decoded value: numbers as int, strings as text, None for 'no such'/end-of-view/NULL."""

_SEQUENCE: Final = 0x30
_INTEGER: Final = 0x02
_OCTET_STRING: Final = 0x04
_NULL: Final = 0x05
_OID: Final = 0x06
_GET_BULK: Final = 0xA5
_RESPONSE: Final = 0xA2
_VERSION_2C: Final = 1
# Application types whose content is an unsigned integer (RFC 2578).
_UNSIGNED: Final = frozenset({0x41, 0x42, 0x43, 0x46, 0x47})  # Counter32, Gauge32, TimeTicks,
# Counter64, UInteger32
_IP_ADDRESS: Final = 0x40
_OPAQUE: Final = 0x44
_NO_VALUE: Final = frozenset({0x80, 0x81, 0x82})  # noSuchObject, noSuchInstance, endOfMibView


class BerError(AgentError):
    """Bytes that are not a well-formed SNMPv2c response."""


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded Response-PDU."""

    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[Oid, Value]]


# -- encoding -----------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    return _tlv(_INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def _oid(oid: Oid) -> bytes:
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise BerError(f"cannot encode OID {oid}: the first two arcs are out of range")
    arcs = [oid[0] * 40 + oid[1], *oid[2:]]
    out = bytearray()
    for arc in arcs:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(chunk))
    return _tlv(_OID, bytes(out))


def encode_get_bulk(
    community: str,
    request_id: int,
    non_repeaters: int,
    max_repetitions: int,
    oids: list[Oid],
) -> bytes:
    """Encode a v2c GetBulkRequest for ``oids`` (the first ``non_repeaters`` are scalars)."""
    varbinds = b"".join(_tlv(_SEQUENCE, _oid(oid) + _tlv(_NULL, b"")) for oid in oids)
    pdu = _tlv(
        _GET_BULK,
        _integer(request_id)
        + _integer(non_repeaters)
        + _integer(max_repetitions)
        + _tlv(_SEQUENCE, varbinds),
    )
    return _tlv(
        _SEQUENCE,
        _integer(_VERSION_2C) + _tlv(_OCTET_STRING, community.encode("utf-8")) + pdu,
    )


# -- decoding -----------------------------------------------------------------------------


class _Reader:
    """A cursor over one BER buffer; every read checks its bounds."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def header(self) -> tuple[int, int]:
        """Read a tag and a length; return ``(tag, length)`` with the content next."""
        data, pos = self.data, self.pos
        if pos + 2 > self.end:
            raise BerError(f"truncated at byte {pos}: expected a tag and a length")
        tag, first = data[pos], data[pos + 1]
        pos += 2
        if first & 0x80:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > self.end:
                raise BerError(f"bad length field at byte {pos - 1}")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        else:
            length = first
        if pos + length > self.end:
            raise BerError(
                f"element at byte {self.pos} claims {length} bytes; only {self.end - pos} remain"
            )
        self.pos = pos
        return tag, length

    def expect(self, tag: int, what: str) -> int:
        """Read a header that must carry ``tag``; return its length."""
        got, length = self.header()
        if got != tag:
            raise BerError(f"expected {what} (tag 0x{tag:02X}), got tag 0x{got:02X}")
        return length

    def integer(self, what: str) -> int:
        length = self.expect(_INTEGER, what)
        return self._signed(length)

    def _signed(self, length: int) -> int:
        if length == 0:
            raise BerError("an INTEGER with no content")
        value = int.from_bytes(self.data[self.pos : self.pos + length], "big", signed=True)
        self.pos += length
        return value

    def oid(self) -> Oid:
        length = self.expect(_OID, "an OBJECT IDENTIFIER")
        start, self.pos = self.pos, self.pos + length
        return _oid_arcs(self.data[start : self.pos])

    def value(self) -> Value:
        tag, length = self.header()
        start, self.pos = self.pos, self.pos + length
        content = self.data[start : self.pos]
        if tag == _INTEGER:
            if length == 0:
                raise BerError("an INTEGER with no content")
            return int.from_bytes(content, "big", signed=True)
        if tag in _UNSIGNED:
            return int.from_bytes(content, "big")
        if tag in (_OCTET_STRING, _OPAQUE):
            return content.decode("utf-8", errors="replace")
        if tag == _IP_ADDRESS:
            return ".".join(str(b) for b in content)
        if tag == _OID:
            return ".".join(str(arc) for arc in _oid_arcs(content))
        if tag == _NULL or tag in _NO_VALUE:
            return None
        raise BerError(f"unknown value type 0x{tag:02X}")


def _oid_arcs(content: bytes) -> Oid:
    arcs: list[int] = []
    arc = 0
    for byte in content:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs or content[-1] & 0x80:
        raise BerError("an OBJECT IDENTIFIER is empty or cut short")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def decode_response(data: bytes) -> Response:
    """Decode a v2c Response message.

    Raises:
        BerError: the bytes are not a well-formed v2c Response; the message says where.
    """
    reader = _Reader(data)
    reader.expect(_SEQUENCE, "the message SEQUENCE")
    version = reader.integer("the version")
    if version != _VERSION_2C:
        raise BerError(f"expected SNMP version 2c (1), got {version}")
    community_length = reader.expect(_OCTET_STRING, "the community")
    reader.pos += community_length
    reader.expect(_RESPONSE, "a Response-PDU")
    request_id = reader.integer("the request-id")
    error_status = reader.integer("the error-status")
    error_index = reader.integer("the error-index")
    list_length = reader.expect(_SEQUENCE, "the varbind list")
    list_end = reader.pos + list_length
    varbinds: list[tuple[Oid, Value]] = []
    while reader.pos < list_end:
        bind_length = reader.expect(_SEQUENCE, "a varbind")
        bind_end = reader.pos + bind_length
        oid = reader.oid()
        value = reader.value()
        if reader.pos != bind_end:
            raise BerError(f"varbind for {oid} has {bind_end - reader.pos} stray bytes")
        varbinds.append((oid, value))
    return Response(request_id, error_status, error_index, varbinds)
