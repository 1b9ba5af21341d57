"""Open a reader's serial port the way the agent does, or say in plain words why not.

The agent opens ports 8N1 with an exclusive lock (:mod:`edge_agent.serial.port`); a
technician's tool must open them the same way, or it would read beside a running agent
and steal its bytes. A failure becomes a :class:`PortProblem` carrying the fix.
"""

from __future__ import annotations

import errno
import os

import serial

from edge_agent.errors import AgentError

SERVICE_USER = "pelangi"
"""The user the agent's systemd service runs as (``install-service``)."""


class PortProblem(AgentError):  # noqa: N818 - a problem to tell the technician, not a bug
    """A serial port that cannot be opened: :attr:`message` says why, :attr:`fix` what to do."""

    def __init__(self, message: str, fix: str) -> None:
        """Create the problem with its fix."""
        self.message = message
        self.fix = fix
        super().__init__(f"{message} ({fix})")


def explain(port: str, exc: OSError) -> PortProblem:
    """Turn the error of opening ``port`` into words and a fix."""
    code = exc.errno
    if code in {errno.ENOENT, errno.ENODEV, errno.ENXIO}:
        by_id = (
            "" if port.startswith("/dev/serial/by-id/") else " (prefer its /dev/serial/by-id/ name)"
        )
        return PortProblem(
            f"{port} does not exist: the reader is unplugged or has another name",
            "check the reader's USB cable, then `ls -l /dev/serial/by-id/` and put that "
            f"path in the config{by_id}",
        )
    if code in {errno.EACCES, errno.EPERM}:
        return PortProblem(
            f"no permission to open {port}",
            f"add the user to the dialout group: sudo usermod -aG dialout {SERVICE_USER} "
            "(and log in again, or run this with sudo)",
        )
    if code in {errno.EAGAIN, errno.EBUSY}:
        return PortProblem(
            f"{port} is busy: another program holds it (usually the agent's service)",
            "stop the agent first: sudo systemctl stop pelangi-agent, and start it again after",
        )
    reason = os.strerror(code) if isinstance(code, int) and code > 0 else str(exc)
    return PortProblem(
        f"cannot open {port}: {reason}", "check the port name, the cable and `dmesg | tail`"
    )


def open_serial(port: str, baudrate: int, *, timeout_s: float) -> serial.Serial:
    """Open ``port`` 8N1 at ``baudrate`` with the agent's exclusive lock.

    Raises:
        PortProblem: it cannot be opened; the problem says why and what to do.
    """
    try:
        return serial.Serial(
            port=port,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=timeout_s,
            exclusive=True,
        )
    except OSError as exc:  # SerialException is an OSError, errno kept
        raise explain(port, exc) from None
