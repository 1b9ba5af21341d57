"""Answers -> the agent's configuration document: pure, no prompts and no files.

The wizard's flags and its interactive answers end up in the same :class:`Answers`;
:func:`build` turns them into the YAML document, and :func:`render` into the text that
is written, after :func:`validated` has checked that very text with the agent's own
model (:class:`edge_agent.config.AgentSettings`), so ``init`` can never write a file that
``pelangi-agent validate`` would reject.

Flag grammar (``:`` separates fields; a port may not contain ``:``, as ``by-id`` names
never do):

- ``--broker mqtt://HOST[:PORT]`` (1883) or ``mqtts://HOST[:PORT]`` (8883, TLS);
- ``--reader ID=PORT[:KIND][:BAUD]``; KIND is ``rdm6300``, ``id12la``, ``text`` or a
  text format (``decimal10``, ``hex8``, ``wiegand26``, ``auto``), which implies ``text``;
- ``--door ID=gpio:LINE[:low|high]``, ``ID=serial:PORT[:REMOTE_ID]``,
  ``ID=zigbee2mqtt:TOPIC``;
- ``--switch ID=HOST[:COMMUNITY]`` (SNMP v2c; v3 users go in the file by hand).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, get_args
from urllib.parse import urlsplit

import yaml

from edge_agent.config import AgentSettings
from edge_agent.errors import AgentError
from edge_agent.readers.textline import TextFormat
from pelangi.configfile import parse

if TYPE_CHECKING:
    from collections.abc import Sequence

Document = dict[str, Any]
"""A configuration file as YAML data: what ``yaml.safe_dump`` writes."""

DEFAULT_BROKER: Final = "mqtt://127.0.0.1:1883"
SCHEMES: Final = {"mqtt": 1883, "mqtts": 8883}
READER_KINDS: Final = ("rdm6300", "id12la", "text")
TEXT_FORMATS: Final[tuple[str, ...]] = get_args(TextFormat)
DOOR_SOURCES: Final = ("gpio", "serial", "zigbee2mqtt")
HEADER: Final = (
    "# Pelangi edge agent configuration, written by `pelangi-agent init`.\n"
    "# Every key is explained in config/agent.example.yaml and the README.\n"
    "# Check it with: pelangi-agent validate --config {path}\n"
)


class InitError(AgentError):
    """A flag or answer of the wizard that cannot become configuration."""


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the broker is, from a ``mqtt://`` or ``mqtts://`` URL."""

    host: str
    port: int
    tls: bool


@dataclass(frozen=True, slots=True)
class Answers:
    """Everything the wizard asks, however it was answered (flags or prompts)."""

    site: str
    gateway: str
    broker: str = DEFAULT_BROKER
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    readers: Sequence[Document] = field(default_factory=tuple)
    doors: Sequence[Document] = field(default_factory=tuple)
    switches: Sequence[Document] = field(default_factory=tuple)


def parse_broker(url: str) -> Broker:
    """Read ``mqtt://host:port`` or ``mqtts://host:port`` (the port defaults per scheme)."""
    expected = "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"
    try:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    except ValueError:  # an unclosed [IPv6 address]
        raise InitError(f"broker {url!r} is not a broker URL: expected {expected}") from None
    if parts.scheme not in SCHEMES or not parts.hostname or parts.path not in {"", "/"}:
        raise InitError(f"broker {url!r} is not a broker URL: expected {expected}")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise InitError(f"broker {url!r} has a bad port: expected {expected}") from None
    return Broker(parts.hostname, port, tls=parts.scheme == "mqtts")


def _split_id(spec: str, flag: str, grammar: str) -> tuple[str, list[str]]:
    device, sep, rest = spec.partition("=")
    if not sep or not device or not rest:
        raise InitError(f"{flag} {spec!r}: expected {grammar}")
    return device, rest.split(":")


def parse_reader(spec: str) -> Document:
    """Read ``ID=PORT[:KIND][:BAUD]`` into a ``readers:`` item."""
    grammar = "ID=PORT[:KIND][:BAUD], e.g. rfid-lobby=/dev/ttyUSB0:rdm6300:9600"
    device, fields = _split_id(spec, "--reader", grammar)
    reader: Document = {}
    # Optional fields come last, so read them from the right.
    if len(fields) > 1 and fields[-1].isdigit():
        reader["baudrate"] = int(fields.pop())
    if len(fields) > 1 and fields[-1] in (*READER_KINDS, *TEXT_FORMATS):
        kind = fields.pop()
        reader["kind"] = kind if kind in READER_KINDS else "text"
        if kind in TEXT_FORMATS:
            reader["text_format"] = kind
    if len(fields) != 1:
        raise InitError(f"--reader {spec!r}: unknown field {fields[1]!r}: expected {grammar}")
    return {"id": device, "kind": reader.pop("kind", "rdm6300"), "port": fields[0], **reader}


def parse_door(spec: str) -> Document:
    """Read ``ID=gpio:LINE[:low|high]``, ``ID=serial:PORT[:REMOTE]`` or ``ID=zigbee2mqtt:TOPIC``."""
    grammar = "ID=gpio:LINE[:low|high], ID=serial:PORT[:REMOTE_ID] or ID=zigbee2mqtt:TOPIC"
    device, fields = _split_id(spec, "--door", grammar)
    source, *args = fields
    door: Document = {"id": device, "source": source}
    if source == "gpio" and 1 <= len(args) <= 2 and args[0].isdigit():
        door["line"] = int(args[0])
        if len(args) == 2:
            door["closed_when"] = args[1]
    elif source == "serial" and 1 <= len(args) <= 2:
        door["port"] = args[0]
        if len(args) == 2:
            door["remote_id"] = args[1]
    elif source == "zigbee2mqtt" and args:
        door["topic"] = ":".join(args)  # a topic may hold ':'
    else:
        raise InitError(f"--door {spec!r}: expected {grammar}")
    return door


def parse_switch(spec: str) -> Document:
    """Read ``ID=HOST[:COMMUNITY]`` into a ``switches:`` item (SNMP v2c)."""
    grammar = "ID=HOST[:COMMUNITY], e.g. sw-lantai1=10.0.0.2:public"
    device, fields = _split_id(spec, "--switch", grammar)
    if len(fields) > 2:
        raise InitError(f"--switch {spec!r}: expected {grammar}")
    community = fields[1] if len(fields) == 2 else "public"
    return {"id": device, "host": fields[0], "version": "2c", "community": community}


def build(answers: Answers) -> Document:
    """The configuration document of ``answers`` (only what differs from the defaults)."""
    broker = parse_broker(answers.broker)
    mqtt: Document = {"host": broker.host, "port": broker.port}
    if answers.username:
        mqtt["username"] = answers.username
    if answers.password:
        mqtt["password"] = answers.password
    if broker.tls or answers.ca_file:
        # An empty tls section means TLS with the system's CA bundle.
        mqtt["tls"] = {"ca_file": answers.ca_file} if answers.ca_file else {}
    document: Document = {"site": answers.site, "gateway": answers.gateway, "mqtt": mqtt}
    for key in ("readers", "doors", "switches"):
        items = getattr(answers, key)
        if items:
            document[key] = [dict(item) for item in items]
    return document


def render(document: Document, path: str) -> str:
    """The file's text: a short header, then the document in YAML."""
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return HEADER.format(path=path) + body


def validated(text: str, path: str) -> AgentSettings:
    """Check ``text`` exactly as the agent will load it.

    Raises:
        pelangi.errors.ConfigError: the agent would reject it; ``problems`` says why.
    """
    return parse(text, AgentSettings, source=path)
