"""The own SNMPv2c codec, checked against pysnmp's independent implementation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Counter32, Counter64, Gauge32, Integer, OctetString, TimeTicks

from edge_agent.snmp.ber import BerError, Response, decode_response, encode_get_bulk

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def _pysnmp_response(request_id: int, varbinds: list[tuple[str, object]], status: int = 0) -> bytes:
    pdu = V2C.ResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_error_status(pdu, status)
    V2C.apiPDU.set_varbinds(pdu, varbinds)
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, "public")
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def test_get_bulk_decodes_in_pysnmp() -> None:
    oids = [(1, 3, 6, 1, 2, 1, 1, 3), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 4_294_967_295)]
    message, _ = decoder.decode(encode_get_bulk("públic", 77, 1, 25, oids), asn1Spec=V2C.Message())
    pdu = V2C.apiMessage.get_pdu(message)
    assert bytes(V2C.apiMessage.get_community(message)) == "públic".encode()
    assert int(V2C.apiBulkPDU.get_request_id(pdu)) == 77
    assert int(V2C.apiBulkPDU.get_non_repeaters(pdu)) == 1
    assert int(V2C.apiBulkPDU.get_max_repetitions(pdu)) == 25
    assert [tuple(oid) for oid, _ in V2C.apiBulkPDU.get_varbinds(pdu)] == oids


def test_every_value_type_of_a_response() -> None:
    varbinds = [
        ("1.3.6.1.2.1.1.3.0", TimeTicks(123456)),
        ("1.3.6.1.2.1.1.5.0", OctetString('Switch Lantai 1, "inti"')),
        ("1.3.6.1.2.1.2.2.1.8.1", Integer(-2)),
        ("1.3.6.1.2.1.2.2.1.14.1", Counter32(4_294_967_295)),
        ("1.3.6.1.2.1.31.1.1.1.6.1", Counter64(2**64 - 1)),
        ("1.3.6.1.2.1.31.1.1.1.15.1", Gauge32(1000)),
        ("1.3.6.1.2.1.31.1.1.1.18.1", OctetString(b"\xffbroken utf-8")),
        ("1.3.6.1.2.1.31.1.1.1.19.1", V2C.NoSuchInstance("")),
        ("1.3.6.1.2.1.99", V2C.EndOfMibView("")),
    ]
    response = decode_response(_pysnmp_response(42, varbinds))
    assert (response.request_id, response.error_status) == (42, 0)
    assert [value for _, value in response.varbinds] == [
        123456,
        'Switch Lantai 1, "inti"',
        -2,
        4_294_967_295,
        2**64 - 1,
        1000,
        "\ufffdbroken utf-8",
        None,
        None,
    ]
    assert response.varbinds[4][0] == (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1)


def test_error_status_is_reported() -> None:
    response = decode_response(_pysnmp_response(1, [("1.3.6.1", Integer(0))], status=5))
    assert response.error_status == 5


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"", "truncated"),
        (b"\x30\x05\x02\x01\x00", "claims"),
        (b"\x30\x03\x02\x01\x00", "version"),
        (bytes.fromhex("30070201010400a000"), "Response-PDU"),
    ],
)
def test_malformed_messages_say_what_is_wrong(data: bytes, where: str) -> None:
    with pytest.raises(BerError, match=where):
        decode_response(data)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_response_or_ber_error(data: bytes) -> None:
    try:
        response = decode_response(data)
    except BerError:
        return
    assert isinstance(response, Response)


@given(
    st.integers(0, 2**31 - 1),
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12),
            st.integers(0, 2**64 - 1),
        ),
        max_size=20,
    ),
)
def test_counter64_tables_round_trip_through_pysnmp(
    request_id: int, cells: list[tuple[list[int], int]]
) -> None:
    varbinds = [(".".join(map(str, [1, 3, *tail])), Counter64(value)) for tail, value in cells]
    response = decode_response(_pysnmp_response(request_id, varbinds))
    assert response.request_id == request_id
    assert response.varbinds == [((1, 3, *tail), value) for tail, value in cells]
