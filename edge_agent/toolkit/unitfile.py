"""The agent's systemd unit, rendered from what the configuration needs. Pure: text in, text out.

:func:`render` turns a :class:`UnitSpec` into the unit file's text; :func:`device_rules`
turns the configured serial ports and GPIO chips into ``DeviceAllow=`` lines. The IO
(reading the configuration, resolving symlinks, writing the file, creating the user)
is :mod:`edge_agent.toolkit.service`'s.

The shipped ``config/systemd/pelangi-agent.service`` is :data:`SHIPPED` rendered (a test
holds them together). Its hardening (:data:`HARDENING`) scores 1.6 with ``systemd-analyze
security --offline=yes`` (8.5 before); what is left open, and why:

- the network (``PrivateNetwork``, ``IPAddressDeny``): the agent talks to the broker and
  the switches, whose addresses the unit cannot know;
- devices (``PrivateDevices``): the readers and door contacts are real devices, allowed one
  by one with ``DevicePolicy=closed`` + ``DeviceAllow=``;
- ``SupplementaryGroups=dialout``: serial ports belong to the dialout group;
- ``PrivateUsers``: in a user namespace the dialout group is not mapped, and what the
  agent creates in its state directory would belong to "nobody" outside it;
- ``ProtectClock``: it forbids ``adjtimex(2)`` altogether, even the read-only call the
  agent makes to learn whether NTP keeps the clock (:mod:`edge_agent.ntp`);
- ``ProcSubset=pid``: it hides ``/proc/sys/kernel/random/boot_id``, by which the outbox
  knows whether a stored monotonic time is from this boot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

HARDENING: Final = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateMounts=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    # AF_UNIX: the journal's socket. No AF_NETLINK: glibc's getaddrinfo copes without it.
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    # CPython runs no JIT; ctypes here only calls adjtimex (no callbacks, no W+X trampolines).
    "MemoryDenyWriteExecute=yes",
    "RemoveIPC=yes",
    "SystemCallArchitectures=native",
    # adjtimex: read-only (modes = 0), to tell whether NTP keeps the clock (edge_agent/ntp.py).
    "SystemCallFilter=@system-service adjtimex",
    "SystemCallFilter=~@privileged @resources",
    "DevicePolicy=closed",
)
"""The ``[Service]`` hardening of the agent's unit, beyond user, state and devices."""

USB_SERIAL_CLASSES: Final = ("char-ttyUSB", "char-ttyACM")
"""Device classes (``/proc/devices`` names) of USB serial adapters."""
STABLE_LINKS: Final = ("/dev/serial/by-id/", "/dev/serial/by-path/")
"""udev's stable names of serial ports: symlinks to a node that changes on re-plugging."""
DEFAULT_STATE_ROOT: Final = PurePosixPath("/var/lib")
"""Where systemd's ``StateDirectory=`` lives."""


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """Everything the agent's unit depends on."""

    program: str
    """The absolute path of ``pelangi-agent``."""
    config: str
    """The agent's configuration file, as the service sees it."""
    user: str = "pelangi"
    group: str = "pelangi"
    devices: tuple[str, ...] = ()
    """``DeviceAllow=`` values, e.g. ``/dev/ttyS0 rw`` (see :func:`device_rules`)."""
    state_directory: str | None = "pelangi-agent"
    """``StateDirectory=`` (relative to /var/lib), or None if the state is elsewhere."""
    read_write_paths: tuple[str, ...] = ()
    """Folders outside the state directory the agent writes (an outbox elsewhere)."""
    header: tuple[str, ...] = (
        "# Pelangi edge agent on a building gateway; written by pelangi-agent install-service.",
        "# Run it again after changing the devices in the configuration: it allows exactly those.",
    )
    """Comment lines on top of the file."""


SHIPPED: Final = UnitSpec(
    program="/opt/pelangi/.venv/bin/pelangi-agent",
    config="/etc/pelangi/agent.yaml",
    # Not knowing this gateway's devices: every serial port and GPIO chip by its class.
    devices=tuple(f"char-{name} rw" for name in ("ttyUSB", "ttyACM", "ttyS", "ttyAMA", "gpiochip")),
    header=(
        "# Pelangi edge agent on a building gateway (config/systemd/pelangi-agent.service).",
        "# Rendered by edge_agent/toolkit/unitfile.py (SHIPPED); tests keep the two the same.",
        "# Better: pelangi-agent install-service writes one allowing only this gateway's devices.",
        "# By hand: cp pelangi-agent.service /etc/systemd/system/",
        "#          systemctl enable --now pelangi-agent",
    ),
)
"""The unit shipped in ``config/systemd/``, for a gateway whose devices it does not know."""


def device_rules(ports: Iterable[str], links: Mapping[str, str]) -> tuple[str, ...]:
    """``DeviceAllow=`` values for ``ports`` (serial ports and GPIO chips), in order, once each.

    A plain node (``/dev/ttyS0``, ``/dev/gpiochip0``) is allowed exactly. A stable udev
    link (``/dev/serial/by-id/...``) is resolved by systemd once, when the service starts,
    and re-plugging the adapter may give it another node (``ttyUSB0`` -> ``ttyUSB1``):
    such a port is allowed by its node's device class instead (``links`` maps it to the
    node's name, e.g. ``ttyUSB0``; both USB serial classes when it does not resolve now).
    """
    rules: list[str] = []
    for port in ports:
        if port.startswith(STABLE_LINKS):
            node = links.get(port, "")
            classes = [c for c in USB_SERIAL_CLASSES if node.startswith(c.removeprefix("char-"))]
            rules += [f"{c} rw" for c in classes or USB_SERIAL_CLASSES]
        else:
            rules.append(f"{port} rw")
    return tuple(dict.fromkeys(rules))


def state_directory(state_dir: str) -> str | None:
    """``StateDirectory=`` for ``state_dir``, or None when it is not under /var/lib."""
    path = PurePosixPath(state_dir)
    if path.is_relative_to(DEFAULT_STATE_ROOT) and path != DEFAULT_STATE_ROOT:
        return str(path.relative_to(DEFAULT_STATE_ROOT))
    return None


def render(spec: UnitSpec) -> str:
    """The unit file's text for ``spec``."""
    program, config = spec.program, spec.config
    lines = [
        *spec.header,
        "[Unit]",
        "Description=Pelangi edge agent (readers, doors, switches -> MQTT)",
        "Documentation=file:///opt/pelangi/README.md",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStartPre={program} validate --config {config}",
        f"ExecStart={program} run --config {config}",
        f"User={spec.user}",
        f"Group={spec.group}",
        "# Serial ports belong to the dialout group.",
        "SupplementaryGroups=dialout",
        "Restart=on-failure",
        "RestartSec=2",
        "# A bad configuration exits with status 2: do not restart-loop on it.",
        "RestartPreventExitStatus=2",
        # 0027: the status file and the outbox stay readable by the pelangi group (status, export).
        "UMask=0027",
        *_state_lines(spec),
        "# Hardening (systemd-analyze security): what stays open, and why, is said in",
        "# edge_agent/toolkit/unitfile.py. Devices: only those below (DevicePolicy=closed).",
        *HARDENING,
        *(f"DeviceAllow={rule}" for rule in spec.devices),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def _state_lines(spec: UnitSpec) -> Sequence[str]:
    lines = []
    if spec.state_directory:
        lines += [f"StateDirectory={spec.state_directory}", "StateDirectoryMode=0750"]
    lines += [f"ReadWritePaths={path}" for path in spec.read_write_paths]
    return lines
