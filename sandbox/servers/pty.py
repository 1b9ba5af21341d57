"""A pair of linked pseudo-terminals (socat) standing in for a serial device."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from sandbox.processes import SandboxError, find_program
from sandbox.servers.base import Server


class SerialPty(Server):
    """A pair of linked pseudo-terminals standing in for a serial RFID reader.

    :attr:`device` is what the agent opens (as it would ``/dev/ttyUSB0``); bytes given to
    :meth:`write` arrive there, as if the reader had sent them. :meth:`stop` makes the
    device disappear (the reader is unplugged); :meth:`start` brings it back at the same
    path (plugged in again, as a new pty behind the same name).

    Bytes written while nobody has the device open are lost, like a reader talking to an
    unplugged cable (and pyserial flushes input when it opens a port): wait until the
    reading process holds the device (:meth:`is_open_by`) before writing.
    """

    name = "socat"

    def __init__(self, workdir: Path, name: str = "ttyRFID0") -> None:
        """Prepare a pty pair whose device end will be ``workdir / name``."""
        super().__init__(workdir)
        self.device = self.workdir / name
        self.feed_path = self.workdir / f"{name}.feed"
        self._log_name = f"socat-{name}"
        self._feed: int | None = None

    @property
    def log_path(self) -> Path:
        """The socat log (several ptys may share a work folder)."""
        return self.workdir / f"{self._log_name}.log"

    def _argv(self) -> list[str]:
        return [
            find_program("socat"),
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.device}",
            f"pty,raw,echo=0,link={self.feed_path}",
        ]

    def _prepare(self) -> None:
        # Links left by a killed socat would hide whether the new one has created its own.
        self._remove_links()

    def _is_ready(self) -> bool:
        return (
            self.device.is_symlink()
            and self.feed_path.is_symlink()
            and "starting data transfer loop" in self.log_text()
        )

    def _after_start(self) -> None:
        # One descriptor for the whole run: opening the pty for every write is slow and
        # would let the line discipline see open/close cycles.
        self._feed = os.open(self.feed_path, os.O_RDWR | os.O_NOCTTY)

    def _before_stop(self) -> None:
        if self._feed is not None:
            os.close(self._feed)
            self._feed = None

    def _after_stop(self) -> None:
        # socat removes its links when terminated, but not when killed.
        self._remove_links()

    def _remove_links(self) -> None:
        for link in (self.device, self.feed_path):
            link.unlink(missing_ok=True)

    def write(self, data: bytes) -> None:
        """Send ``data`` to whoever has :attr:`device` open.

        Raises:
            SandboxError: the pty is not running (the reader is unplugged).
        """
        if self._feed is None or not self.running:
            raise SandboxError(f"the pty {self.device} is not running: start() it first")
        view = memoryview(data)
        while view:
            written = os.write(self._feed, view)
            view = view[written:]

    def is_open_by(self, pid: int) -> bool:
        """Whether process ``pid`` has :attr:`device` open right now (read from /proc)."""
        try:
            target = os.path.realpath(self.device, strict=True)
        except OSError:
            return False
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            return False
        for fd in fds:
            try:
                if str(fd.readlink()) == target:
                    return True
            except OSError as exc:
                # A descriptor closed between listing and reading: not ours.
                if exc.errno != errno.ENOENT:
                    raise
        return False
