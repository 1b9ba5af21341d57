"""The framing sniffer of ``pelangi-agent init``: pure classification, then a real pty."""

from __future__ import annotations

import os
import random
import threading
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.toolkit.init.sniffer import classify, sniff, unsupported
from edge_agent.toolkit.portopen import PortProblem
from sandbox.card_frames import LINE_NOISE, card_uid, rdm6300_frame
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.servers import SerialPty

TAG = "01001293D8"
FRAME = rdm6300_frame(TAG)


def _noise(size: int, seed: int = 7) -> bytes:
    """What a UART delivers at the wrong baud rate: bytes with no structure."""
    return random.Random(seed).randbytes(size)  # noqa: S311 - noise, not a secret


def test_rdm6300_frames_are_recognised_at_their_baud_rate() -> None:
    guess = classify({9600: FRAME * 3, 19200: _noise(40), 38400: _noise(20)})
    assert guess is not None
    assert (guess.kind, guess.text_format, guess.baudrate) == ("rdm6300", None, 9600)
    assert guess.confidence == 1.0
    assert {card.uid for card in guess.cards} == {card_uid(TAG)}
    assert guess.is_confident
    assert guess.reader_fields() == {"kind": "rdm6300", "baudrate": 9600}


def test_the_right_rate_wins_when_it_is_not_the_first() -> None:
    guess = classify({9600: _noise(50), 19200: _noise(30, seed=3), 57600: FRAME * 2})
    assert guess is not None
    assert guess.baudrate == 57600


def test_a_frame_cut_at_the_start_lowers_confidence_but_still_wins() -> None:
    guess = classify({9600: FRAME[6:] + FRAME * 2 + LINE_NOISE})
    assert guess is not None
    assert guess.kind == "rdm6300"
    assert 0.5 < guess.confidence < 1.0


def test_crlf_before_etx_is_an_id12la() -> None:
    id12la = FRAME[:-1] + b"\r\n\x03"
    guess = classify({9600: id12la * 2})
    assert guess is not None
    assert (guess.kind, guess.confidence) == ("id12la", 1.0)


@pytest.mark.parametrize(
    ("lines", "fmt", "uid"),
    [
        (b"0001217496\r\n", "decimal10", "001293D8"),
        (b"001293D8\r", "hex8", "001293D8"),
        (b"1293D8\r", "wiegand26", "001293D8"),
    ],
)
def test_text_lines_are_recognised_by_format(lines: bytes, fmt: str, uid: str) -> None:
    guess = classify({9600: lines * 3})
    assert guess is not None
    assert (guess.kind, guess.text_format, guess.cards[0].uid) == ("text", fmt, uid)
    assert guess.reader_fields()["text_format"] == fmt
    assert guess.label == f"text ({fmt}) at 9600 baud"


def test_noise_and_silence_are_not_recognised() -> None:
    assert classify({9600: _noise(200), 19200: b"", 38400: b"\r\n \r\n"}) is None
    assert classify({}) is None


def test_one_card_is_not_confident() -> None:
    guess = classify({9600: FRAME})
    assert guess is not None
    assert not guess.is_confident


@given(st.dictionaries(st.sampled_from([9600, 19200, 115200]), st.binary(max_size=200)))
def test_any_bytes_give_a_guess_or_none_never_an_error(samples: dict[int, bytes]) -> None:
    guess = classify(samples)
    assert guess is None or (guess.cards and 0 < guess.confidence <= 1)


def test_sniffing_a_pty_recognises_the_reader(serial_pty: SerialPty) -> None:
    done = threading.Event()

    def reader_sends_frames() -> None:
        wait_until(lambda: serial_pty.is_open_by(os.getpid()), timeout=10, what="sniff opens")
        while not done.is_set():
            serial_pty.write(FRAME)
            done.wait(0.05)  # an RDM6300 repeats a held card every ~100 ms

    sender = threading.Thread(target=reader_sends_frames)
    sender.start()
    heard: list[int] = []
    try:
        result = sniff(str(serial_pty.device), seconds_per_baud=5.0, on_baud=heard.append)
    finally:
        done.set()
        sender.join()
    assert result.guess is not None
    assert result.guess.is_confident
    assert (result.guess.kind, result.guess.baudrate) == ("rdm6300", 9600)
    assert heard == [9600]  # confident at the first rate: it stopped listening early


def test_sniffing_a_silent_port_tries_every_rate(serial_pty: SerialPty) -> None:
    heard: list[int] = []
    result = sniff(
        str(serial_pty.device), bauds=(9600, 19200), seconds_per_baud=0.2, on_baud=heard.append
    )
    assert result.guess is None
    assert heard == [9600, 19200]
    assert result.received == {9600: 0, 19200: 0}


def test_sniffing_a_missing_port_says_what_to_do(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(PortProblem) as caught:
        sniff(f"{tmp_path}/ttyNONE", seconds_per_baud=0.1)
    assert "does not exist" in caught.value.message
    assert "/dev/serial/by-id/" in caught.value.fix


def test_wiegand_prints_are_named_though_no_decoder_reads_them() -> None:
    samples = {9600: b"018,37848\r\n018,37849\r\n"}
    assert classify(samples) is None
    hint = unsupported(samples)
    assert hint is not None
    assert "facility,card" in hint
    assert unsupported({9600: FRAME * 2}) is None
