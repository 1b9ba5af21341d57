"""The ``pelangi-agent init`` command, and writing the file it makes."""

from __future__ import annotations

import contextlib
import grp
import os
import tempfile
from pathlib import Path
from typing import Annotated, Final

import typer

from edge_agent.toolkit.init import prompts
from edge_agent.toolkit.init.builder import (
    DEFAULT_BROKER,
    Answers,
    InitError,
    build,
    parse_door,
    parse_reader,
    parse_switch,
    render,
    validated,
)
from edge_agent.toolkit.portopen import SERVICE_USER
from pelangi.console import fail, stdout
from pelangi.errors import ConfigError

FILE_MODE: Final = 0o640
"""Owner writes, the service's group reads, nobody else: the file may hold the broker password."""


def init_command(  # noqa: PLR0913, PLR0917 - one option per question of the wizard
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the configuration file.")
    ] = Path("/etc/pelangi/agent.yaml"),
    non_interactive: Annotated[
        bool, typer.Option("--non-interactive", help="Ask nothing: use the flags only.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    site: Annotated[str | None, typer.Option(help="Site id, e.g. bukit-pelangi.")] = None,
    gateway: Annotated[str | None, typer.Option(help="This gateway's id.")] = None,
    broker: Annotated[
        str, typer.Option(help="mqtt://HOST[:PORT], or mqtts://HOST[:PORT] for TLS.")
    ] = DEFAULT_BROKER,
    username: Annotated[str | None, typer.Option(help="Broker username.")] = None,
    password: Annotated[str | None, typer.Option(help="Broker password.")] = None,
    ca_file: Annotated[
        str | None, typer.Option("--ca-file", help="CA of the broker's certificate (TLS).")
    ] = None,
    reader: Annotated[
        list[str] | None,
        typer.Option(
            help="ID=PORT[:KIND][:BAUD], KIND rdm6300|id12la|text|decimal10|hex8|wiegand26."
        ),
    ] = None,
    door: Annotated[
        list[str] | None,
        typer.Option(
            help="ID=gpio:LINE[:low|high], ID=serial:PORT[:REMOTE_ID], ID=zigbee2mqtt:TOPIC."
        ),
    ] = None,
    switch: Annotated[
        list[str] | None, typer.Option(help="ID=HOST[:COMMUNITY] (SNMP v2c).")
    ] = None,
    sniff_seconds: Annotated[
        float, typer.Option(help="How long to listen at each baud rate when sniffing.")
    ] = 2.0,
) -> None:
    """Write a gateway's configuration file: asks each question, or takes them all as flags.

    Example: pelangi-agent init --non-interactive --site bukit-pelangi --gateway gw-aula
    --broker mqtts://broker.example:8883 --username gw-aula --password S3cret
    --reader rfid-aula=/dev/serial/by-id/usb-FTDI-if00-port0:rdm6300
    """
    if output.exists() and not force:
        raise fail(f"{output} already exists", "pass --force to replace it, or choose --output")
    try:
        flags = Answers(
            site=site or "",
            gateway=gateway or "",
            broker=broker,
            username=username,
            password=password,
            ca_file=ca_file,
            readers=[parse_reader(spec) for spec in reader or ()],
            doors=[parse_door(spec) for spec in door or ()],
            switches=[parse_switch(spec) for spec in switch or ()],
        )
        if non_interactive:
            if not site or not gateway:
                raise fail("--non-interactive needs --site and --gateway", "add both flags")
            answers = flags
        else:
            answers = prompts.ask(flags, sniff_seconds=sniff_seconds)
        text = render(build(answers), str(output))
    except InitError as exc:
        raise fail(str(exc), "see pelangi-agent init --help for each flag's form") from None
    try:
        settings = validated(text, str(output))
    except ConfigError as exc:
        raise fail(
            "the answers do not make a valid configuration: " + "; ".join(exc.problems),
            "correct the flag or answer named above and run init again",
        ) from None
    try:
        write_config(output, text, force=force)
    except FileExistsError:
        raise fail(f"{output} appeared meanwhile", "pass --force to replace it") from None
    except OSError as exc:
        raise fail(
            f"cannot write {output}: {exc.strerror or exc}",
            "run with sudo, or choose a writable --output",
        ) from None
    console = stdout()
    console.print(f"wrote {output}: {settings.inventory()}", markup=False)
    console.print("next:", markup=False)
    for step in (
        f"pelangi-agent validate --config {output}    # check the file (no network)",
        f"pelangi-agent doctor --config {output}      # check the broker, ports and switches",
        f"sudo pelangi-agent install-service --config {output}",
    ):
        console.print(f"  {step}", markup=False)


def write_config(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` atomically, mode 0640, never over a file unless ``force``.

    The text goes to a temporary file in the same folder, synced, then takes the name in
    one step: readers never see half a file, and a crash leaves the old one intact.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
        OSError: the folder or file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with contextlib.suppress(KeyError, PermissionError):
            # The service user's group may read it; without the group, only root can.
            os.fchown(fd, -1, grp.getgrnam(SERVICE_USER).gr_gid)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if force:
            Path(temporary).replace(path)
        else:
            os.link(temporary, path)  # fails if the name exists, even if made just now
    finally:
        Path(temporary).unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name itself survives a power cut
    finally:
        os.close(directory)
