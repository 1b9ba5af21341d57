"""The wizard's questions, each with a default; answers are checked as they are typed.

A flag given on the command line becomes the default of its question, so a technician
can pre-fill what they know and press Enter through the rest.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Final

import typer
from pydantic import TypeAdapter, ValidationError

from edge_agent.toolkit.init.builder import (
    DOOR_SOURCES,
    READER_KINDS,
    TEXT_FORMATS,
    Answers,
    Document,
    InitError,
    parse_broker,
)
from edge_agent.toolkit.init.ports import serial_ports
from edge_agent.toolkit.init.sniffer import Guess, sniff
from edge_agent.toolkit.portopen import PortProblem
from pelangi.console import stderr, stdout
from pelangi.payloads import Ident

if TYPE_CHECKING:
    from collections.abc import Callable

_IDENT: Final = TypeAdapter[str](Ident)
_BAUDS: Final = ("9600", "19200", "38400", "57600", "115200", "4800", "2400", "1200")


def _ident(text: str) -> str:
    try:
        return _IDENT.validate_python(text.strip())
    except ValidationError:
        msg = "use letters, digits, '_', '-' or '.' (at most 64 characters)"
        raise typer.BadParameter(msg) from None


def _broker(text: str) -> str:
    try:
        parse_broker(text.strip())
    except InitError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text.strip()


def _ask(text: str, default: str | None, check: Callable[[str], str] = str.strip) -> str:
    answer: str = typer.prompt(text, default=default, value_proc=check)
    return answer


def _optional(text: str, default: str | None, *, hide: bool = False) -> str | None:
    answer: str = typer.prompt(
        text, default=default or "", show_default=not hide and bool(default), hide_input=hide
    )
    return answer.strip() or None


def _choice(text: str, choices: tuple[str, ...], default: str) -> str:
    def check(answer: str) -> str:
        if answer.strip() not in choices:
            msg = f"choose one of {', '.join(choices)}"
            raise typer.BadParameter(msg)
        return answer.strip()

    return _ask(f"{text} ({'/'.join(choices)})", default, check)


def ask(flags: Answers, *, sniff_seconds: float) -> Answers:
    """Ask every question, with ``flags`` as the defaults; return the answers."""
    site = _ask("Site id (the office complex)", flags.site or "bukit-pelangi", _ident)
    gateway = _ask("Gateway id (this gateway)", flags.gateway or _hostname(), _ident)
    broker = _ask("Broker URL (mqtt://HOST:1883 or mqtts://HOST:8883)", flags.broker, _broker)
    username = _optional("Broker username (empty: none)", flags.username or gateway)
    password = _optional("Broker password (empty: none)", flags.password, hide=True)
    ca_file = flags.ca_file
    if parse_broker(broker).tls:
        ca_file = _optional("CA file of the broker's certificate (empty: system CAs)", ca_file)
    readers = [*flags.readers, *_more("card reader", len(flags.readers), _reader, sniff_seconds)]
    doors = [*flags.doors, *_more("door", len(flags.doors), _door, sniff_seconds)]
    switches = [*flags.switches, *_more("switch", len(flags.switches), _switch, sniff_seconds)]
    return Answers(site, gateway, broker, username, password, ca_file, readers, doors, switches)


def _more(
    noun: str, have: int, one: Callable[[int, float], Document], sniff_seconds: float
) -> list[Document]:
    """Ask for devices of one sort until the technician says no more."""
    added: list[Document] = []
    while typer.confirm(f"Add {'another' if have + len(added) else 'a'} {noun}?", default=False):
        added.append(one(have + len(added) + 1, sniff_seconds))
    return added


def _pick_port(default: str | None) -> str:
    ports = serial_ports()
    if ports:
        stdout().print("Serial ports on this gateway (by-id names survive re-plugging):")
        for port in ports:
            where = f"{port.by_id} -> {port.device}" if port.by_id else port.device
            stdout().print(f"  {where}  {port.description}".rstrip(), markup=False)
    else:
        stdout().print("No serial ports found (is the reader plugged in?).")
    return _ask("Serial port", default or (ports[0].path if ports else "/dev/ttyUSB0"))


def _reader(number: int, sniff_seconds: float) -> Document:
    device = _ask("Reader id", f"rfid-{number}", _ident)
    port = _pick_port(None)
    guess = (
        _sniffed(port, sniff_seconds) if typer.confirm("Sniff this port?", default=True) else None
    )
    kind = _choice("Reader kind", READER_KINDS, guess.kind if guess else "rdm6300")
    reader: Document = {"id": device, "kind": kind, "port": port}
    if kind == "text":
        known = guess.text_format if guess and guess.text_format else "auto"
        reader["text_format"] = _choice("Text format", TEXT_FORMATS, known)
    reader["baudrate"] = int(_choice("Baud rate", _BAUDS, str(guess.baudrate if guess else 9600)))
    return reader


def _sniffed(port: str, seconds: float) -> Guess | None:
    stdout().print(f"Hold a card on the reader now; listening on {port}...", markup=False)
    try:
        result = sniff(
            port,
            seconds_per_baud=seconds,
            on_baud=lambda baud: stdout().print(f"  trying {baud} baud", markup=False),
        )
    except PortProblem as problem:
        stderr().print(f"cannot sniff: {problem.message}; fix: {problem.fix}", markup=False)
        return None
    if result.guess is None:
        heard = sum(result.received.values())
        stdout().print(f"Not recognised ({heard} bytes heard); choose the kind yourself.")
        if result.hint:
            stdout().print(f"Note: {result.hint}.", markup=False)
        return None
    guess = result.guess
    stdout().print(
        f"Recognised: {guess.label}, {guess.confidence:.0%} of the bytes decoded, "
        f"card {guess.cards[0].uid}",
        markup=False,
    )
    return guess


def _door(number: int, _sniff_seconds: float) -> Document:
    device = _ask("Door id", f"pintu-{number}", _ident)
    source = _choice("Door sensor source", DOOR_SOURCES, "gpio")
    door: Document = {"id": device, "source": source}
    if source == "gpio":
        door["line"] = int(_ask("GPIO line number", "17", _digits))
        door["closed_when"] = _choice("Closed when the line is", ("low", "high"), "low")
    elif source == "serial":
        door["port"] = _pick_port(None)
    else:
        door["topic"] = _ask("Zigbee2MQTT topic", f"zigbee2mqtt/{device}")
    return door


def _digits(text: str) -> str:
    if not text.strip().isdigit():
        msg = "expected a number"
        raise typer.BadParameter(msg)
    return text.strip()


def _switch(number: int, _sniff_seconds: float) -> Document:
    device = _ask("Switch id", f"sw-{number}", _ident)
    host = _ask("Switch management address", None)
    community = _ask("SNMP v2c community", "public")
    return {"id": device, "host": host, "version": "2c", "community": community}


def _hostname() -> str:
    name = socket.gethostname().split(".")[0]
    try:
        return _ident(name)
    except typer.BadParameter:
        return "gw-1"
