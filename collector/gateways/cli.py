"""``pelangi-collector gateway add|list|remove``: the gateways' broker logins and ACL lines.

``add SITE/ID`` creates the gateway's broker user in Mosquitto's password file (a fresh
random password, hashed as ``mosquitto_passwd`` does), confines it in the ACL file to
``pelangi/SITE/ID/#``, and prints the ``site``, ``gateway`` and ``mqtt`` part of the
gateway's ``agent.yaml`` with the password — the only time it is shown — or writes it to
``--out`` (mode 0600) for the technician. Both files are changed under a lock and
replaced atomically (:mod:`.files`). Mosquitto reads them again on ``SIGHUP``:
``systemctl reload mosquitto``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Final

import typer
import yaml

from collector.attendance.cli.tables import echo_table
from collector.cli_common import EXIT_FAILED
from collector.gateways.acl import GatewayAccess
from collector.gateways.files import GatewayFilesError, editing
from collector.gateways.passwd import PasswdError, check_user, hash_password, new_password
from pelangi.console import JsonOption, emit_json
from pelangi.topics import IDENT_PATTERN

DEFAULT_PASSWD: Final = Path("/etc/mosquitto/pelangi.passwd")
DEFAULT_ACL: Final = Path("/etc/mosquitto/pelangi.acl")
RELOAD_HINT: Final = "then reload the broker so it reads them: systemctl reload mosquitto"

gateway = typer.Typer(
    help="The gateways' broker logins (password file) and their topics (ACL file).",
    no_args_is_help=True,
)

PasswdOption = Annotated[
    Path, typer.Option("--password-file", help="Mosquitto's password_file.", dir_okay=False)
]
AclOption = Annotated[
    Path, typer.Option("--acl-file", help="Mosquitto's acl_file.", dir_okay=False)
]
WhereArgument = Annotated[str, typer.Argument(help="SITE/GATEWAY, e.g. bukit-pelangi/gw-lobi")]


def _where(text: str) -> tuple[str, str]:
    site, slash, gateway_id = text.partition("/")
    if not slash or not all(re.match(IDENT_PATTERN, part) for part in (site, gateway_id)):
        typer.echo(
            f"pelangi-collector: {text!r}: expected SITE/GATEWAY, two identifiers "
            "(letters, digits, '_', '-', '.'), e.g. bukit-pelangi/gw-lobi",
            err=True,
        )
        raise typer.Exit(2)
    return site, gateway_id


def _fail(message: str) -> typer.Exit:
    typer.echo(f"pelangi-collector: {message}", err=True)
    return typer.Exit(EXIT_FAILED)


@gateway.command()
def add(  # noqa: PLR0913, PLR0917 - each is a command-line parameter, named by typer
    where: WhereArgument,
    broker: Annotated[
        str, typer.Option("--broker", help="The broker as the gateways reach it: HOST[:PORT].")
    ],
    user: Annotated[
        str | None, typer.Option("--user", help="Its broker user name (default: the gateway id).")
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="It exists already: give it a new password.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the agent.yaml part here (mode 0600), not to stdout."),
    ] = None,
    password_file: PasswdOption = DEFAULT_PASSWD,
    acl_file: AclOption = DEFAULT_ACL,
) -> None:
    """Create a gateway's broker login and ACL lines; print its agent.yaml part.

    Example:
    pelangi-collector gateway add bukit-pelangi/gw-lobi --broker mqtt.kutaitimurkab.go.id
    """
    site, gateway_id = _where(where)
    host, _, port = broker.rpartition(":") if ":" in broker else (broker, "", "1883")
    if not port.isdigit() or not host:
        raise _fail(f"--broker {broker!r}: expected HOST or HOST:PORT")
    password = new_password()
    try:
        name = check_user(user or gateway_id)
        with editing(password_file, acl_file) as files:
            known = files.acl.find(site, gateway_id)
            if known is not None and not rotate:
                raise _fail(
                    f"{site}/{gateway_id} is added already (user {known.user}); "
                    "--rotate gives it a new password"
                )
            if known is not None and known.user != name:
                raise _fail(f"{site}/{gateway_id} has user {known.user}, not {name}")
            owner = next((g for g in files.acl.gateways if g.user == name), None)
            if owner is not None and owner != known:
                raise _fail(
                    f"user {name} belongs to {owner.site}/{owner.gateway}: choose another "
                    "with --user (gateway ids repeated across sites need their own users)"
                )
            if known is None and files.passwd.hash_of(name) is not None:
                raise _fail(f"{password_file} has a user {name} already, not a Pelangi gateway's")
            files.passwd = files.passwd.with_user(name, hash_password(password))
            files.acl = files.acl.with_gateway(GatewayAccess(site, gateway_id, name))
    except (GatewayFilesError, PasswdError) as exc:
        raise _fail(str(exc)) from None
    snippet = yaml.safe_dump(
        {
            "site": site,
            "gateway": gateway_id,
            "mqtt": {"host": host, "port": int(port), "username": name, "password": password},
        },
        sort_keys=False,
    )
    verb = "new password for" if rotate and known is not None else "added"
    typer.echo(
        f"{verb} {site}/{gateway_id}: user {name} in {password_file}, topics in {acl_file}",
        err=True,
    )
    typer.echo(RELOAD_HINT, err=True)
    if out is None:
        typer.echo("# the gateway's agent.yaml, these keys (the password is shown only now):")
        typer.echo(snippet, nl=False)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(snippet)
    typer.echo(f"wrote {out} (mode 0600): hand it to the technician, then delete it", err=True)


@gateway.command("list")
def list_gateways(
    password_file: PasswdOption = DEFAULT_PASSWD,
    acl_file: AclOption = DEFAULT_ACL,
    as_json: JsonOption = False,
) -> None:
    """The gateways added, their users, and whether each has its login.

    Example: sudo pelangi-collector gateway list --json
    """
    try:
        with editing(password_file, acl_file) as files:
            found = [(g, files.passwd.hash_of(g.user) is not None) for g in files.acl.gateways]
    except GatewayFilesError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        emit_json(
            [
                {"site": g.site, "gateway": g.gateway, "user": g.user, "login": login}
                for g, login in found
            ]
        )
        return
    rows = [[g.site, g.gateway, g.user, "yes" if login else "MISSING"] for g, login in found]
    echo_table(["site", "gateway", "user", "login"], rows, "gateway(s)")


@gateway.command()
def remove(
    where: WhereArgument,
    password_file: PasswdOption = DEFAULT_PASSWD,
    acl_file: AclOption = DEFAULT_ACL,
) -> None:
    """Remove a gateway's login and ACL lines (it can no longer connect once reloaded).

    Example: sudo pelangi-collector gateway remove bukit-pelangi/gw-lobi
    """
    site, gateway_id = _where(where)
    try:
        with editing(password_file, acl_file) as files:
            known = files.acl.find(site, gateway_id)
            if known is None:
                raise _fail(f"{site}/{gateway_id} is not in {acl_file}: nothing removed")
            files.passwd = files.passwd.without_user(known.user)
            files.acl = files.acl.without_gateway(site, gateway_id)
    except GatewayFilesError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"removed {site}/{gateway_id} (user {known.user}); {RELOAD_HINT}", err=True)


__all__ = ["gateway"]
