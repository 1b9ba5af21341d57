"""The serial ports of this machine, each with its stable ``/dev/serial/by-id/`` name.

``/dev/ttyUSB0`` is whichever adapter the kernel found first, and may be another reader
after a reboot or a re-plug; the ``by-id`` symlink names the adapter itself (vendor,
model, serial number), so the wizard offers it first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serial.tools import list_ports

BY_ID: Final = Path("/dev/serial/by-id")


@dataclass(frozen=True, slots=True)
class SerialPortInfo:
    """One serial port: its kernel name, its ``by-id`` link if any, and what it is."""

    device: str
    by_id: str | None
    description: str

    @property
    def path(self) -> str:
        """The name to put in the config: the ``by-id`` link when there is one."""
        return self.by_id or self.device


def by_id_links(folder: Path = BY_ID) -> dict[str, str]:
    """Map each real device (``/dev/ttyUSB0``) to its ``by-id`` link in ``folder``."""
    links: dict[str, str] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:  # no USB serial adapter plugged in: udev has not made the folder
        return links
    for link in entries:
        target = os.path.realpath(link)
        links.setdefault(target, str(link))
    return links


def serial_ports(folder: Path = BY_ID) -> list[SerialPortInfo]:
    """Every serial port pyserial finds, with its ``by-id`` name, sorted by device."""
    links = by_id_links(folder)
    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        description = port.description if port.description not in {"", "n/a"} else ""
        found.append(
            SerialPortInfo(port.device, links.get(os.path.realpath(port.device)), description)
        )
    return found
