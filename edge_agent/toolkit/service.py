"""``pelangi-agent install-service``: the systemd unit, the service user, the config's mode.

Every change is planned first (:func:`plan`), as a :class:`Change` with the words a
technician reads; ``--dry-run`` prints the plan and makes none of it. What is already as
it should be is said "unchanged", so running the command twice changes nothing the
second time. ``--root`` prefixes every path (the unit, ``/etc/passwd`` through
``useradd --prefix``, the config file): tests install into a temporary tree.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Final

from edge_agent.doors.settings import GpioDoor, SerialDoor
from edge_agent.statefile import replace_atomically
from edge_agent.toolkit.unitfile import UnitSpec, device_rules, render, state_directory

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.config import AgentSettings

UNIT_NAME: Final = "pelangi-agent.service"
SERIAL_GROUP: Final = "dialout"
CONFIG_MODE: Final = 0o640
"""The configuration holds the broker's password: readable by root and the service's group."""
UNIT_MODE: Final = 0o644


@dataclass(frozen=True, slots=True)
class Target:
    """Where to install, as the command's options say."""

    config: PurePosixPath
    """The agent's configuration file as the service sees it (inside ``root``)."""
    user: str
    unit_dir: PurePosixPath
    root: Path
    program: str

    def host(self, path: PurePosixPath | str) -> Path:
        """``path`` of the target system, as this process reaches it (under ``root``)."""
        return self.root / str(path).lstrip("/")


@dataclass(frozen=True, slots=True)
class Change:
    """One change the command makes (or would make)."""

    what: str
    apply: Callable[[], None]
    detail: str = ""
    """What exactly changes (the unit's diff), shown by ``--dry-run``."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What to change, and what is already right."""

    changes: tuple[Change, ...]
    unchanged: tuple[str, ...]


def unit_spec(settings: AgentSettings, target: Target) -> UnitSpec:
    """The unit for ``settings``: its devices, its state directory, where else it writes."""
    ports = [r.port for r in settings.readers]
    ports += [d.port for d in settings.doors if isinstance(d, SerialDoor)]
    ports += [d.chip for d in settings.doors if isinstance(d, GpioDoor)]
    links = {
        port: Path(os.path.realpath(target.host(port))).name
        for port in ports
        if target.host(port).is_symlink()
    }
    state = PurePosixPath(settings.state_dir)
    writes = [] if state_directory(str(state)) else [str(state)]
    outbox_dir = PurePosixPath(settings.outbox_path).parent
    if not outbox_dir.is_relative_to(state):
        writes.append(str(outbox_dir))
    return UnitSpec(
        program=target.program,
        config=str(target.config),
        user=target.user,
        group=target.user,
        devices=device_rules(ports, links),
        state_directory=state_directory(str(state)),
        read_write_paths=tuple(writes),
    )


def plan(settings: AgentSettings, target: Target) -> Plan:
    """Everything install-service would change for ``settings`` on ``target``."""
    changes: list[Change] = []
    unchanged: list[str] = []
    spec = unit_spec(settings, target)
    unit = target.host(target.unit_dir / UNIT_NAME)
    text = render(spec)
    current = unit.read_text(encoding="utf-8") if unit.exists() else None
    if current == text:
        unchanged.append(f"unit {unit}")
    else:
        verb = "write" if current is None else "replace"
        diff = difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{unit} (now)" if current is not None else "/dev/null",
            tofile=str(unit),
        )
        changes.append(
            Change(f"{verb} unit {unit}", lambda: _write_unit(unit, text), "".join(diff))
        )
    user, home = target.user, f"/var/lib/{spec.state_directory or 'pelangi'}"
    members = _group_members(target.host("/etc/group"))
    if user not in _passwd_users(target.host("/etc/passwd")):
        command = [
            *("useradd", "--system", "--user-group", "--groups", SERIAL_GROUP),
            *("--no-create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin"),
            *_prefix(target),
            user,
        ]
        changes.append(_run(f"create system user {user} in group {SERIAL_GROUP}", command))
    elif user not in members.get(SERIAL_GROUP, ()):
        command = ["usermod", "--append", "--groups", SERIAL_GROUP, *_prefix(target), user]
        changes.append(_run(f"add user {user} to group {SERIAL_GROUP}", command))
    else:
        unchanged.append(f"user {user} (in group {SERIAL_GROUP})")
    config = target.host(target.config)
    status = config.stat()
    wanted_gid = _gid(target.host("/etc/group"), user)
    if status.st_mode & 0o777 == CONFIG_MODE and status.st_gid == wanted_gid:
        unchanged.append(f"config {config} (group {user}, mode 0640)")
    else:
        changes.append(
            Change(
                f"make config {config} group {user}, mode 0640 (it holds the broker password)",
                lambda: _own_config(config, target),
            )
        )
    return Plan(tuple(changes), tuple(unchanged))


def default_program() -> str:
    """``pelangi-agent`` beside the Python running this command (the same virtualenv)."""
    return str(Path(sys.executable).parent / "pelangi-agent")


def _write_unit(unit: Path, text: str) -> None:
    unit.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(unit, text)
    unit.chmod(UNIT_MODE)


def _own_config(config: Path, target: Target) -> None:
    # Looked up when applied: the user's group may have been created a step before.
    gid = _gid(target.host("/etc/group"), target.user)
    if gid is not None:
        os.chown(config, -1, gid)
    config.chmod(CONFIG_MODE)


def _run(what: str, command: list[str]) -> Change:
    def apply() -> None:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)

    return Change(f"{what} ({' '.join(command)})", apply)


def _prefix(target: Target) -> list[str]:
    return [] if target.root == Path("/") else ["--prefix", str(target.root)]


def _passwd_users(passwd: Path) -> set[str]:
    return {line.split(":", 1)[0] for line in _lines(passwd)}


def _group_members(group: Path) -> dict[str, tuple[str, ...]]:
    members = {}
    for line in _lines(group):
        fields = line.split(":")
        if len(fields) >= 4:  # name:password:gid:members
            members[fields[0]] = tuple(m for m in fields[3].split(",") if m)
    return members


def _gid(group: Path, name: str) -> int | None:
    for line in _lines(group):
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def _lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    except FileNotFoundError:
        return []
