"""Serial port IO for one reader: a thread that reads bytes and survives the port vanishing.

The thread opens the port with pyserial (8N1, a short read timeout so it notices a stop
request promptly), hands every chunk it reads to a callback, and when the port fails
(USB unplugged: the device node disappears, reads fail with EIO) closes it, says so in
the log and tries to reopen it with capped, jittered backoff until it is back or the
reader is stopped. It knows nothing about frames: decoding is the callback's job.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Final, Literal

import serial

from pelangi.backoff import Backoff
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

BaudRate = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
"""The standard rates a reader or microcontroller may be set to."""

READ_TIMEOUT_S: Final = 0.2
"""Longest a read blocks: bounds how long a stop request waits."""
REOPEN_MIN_S: Final = 0.5
"""Backoff base: the first retry comes within half a second (a quick replug)."""


class SerialPortReader:
    """Read one serial port in a background thread and pass the bytes to ``on_data``.

    ``on_data`` is called from the reader's thread with each non-empty chunk, in order.
    """

    def __init__(  # noqa: PLR0913 - all keyword settings of one port
        self,
        reader_id: str,
        port: str,
        on_data: Callable[[bytes], None],
        *,
        baudrate: int = 9600,
        reopen_max_s: float = 10.0,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        """Prepare (not start) the reader ``reader_id`` of serial device ``port``."""
        self.reader_id = reader_id
        self.port = port
        self.baudrate = baudrate
        self._on_data = on_data
        self._read_timeout_s = read_timeout_s
        self._backoff = Backoff(base=min(REOPEN_MIN_S, reopen_max_s), cap=reopen_max_s)
        self._trouble = ThrottledLog(log, burst=1, interval_s=60.0)
        self._stop = threading.Event()
        self._open = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"serial-{reader_id}", daemon=True)

    @property
    def is_open(self) -> bool:
        """True while the port is open and being read."""
        return self._open.is_set()

    def start(self) -> None:
        """Start the reader's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to close the port and finish (returns at once; see :meth:`join`)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to finish; return True if it has (or never started)."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        down_since: float | None = None  # when the port last failed; None while it is fine
        ever_opened = False
        while not self._stop.is_set():
            try:
                port = self._open_port()
            except OSError as exc:
                problem = f"cannot open {self.port} ({_describe(exc)})"
            else:
                if not ever_opened:
                    log.info("reader %s: listening on %s", self.reader_id, self.port)
                elif down_since is not None:
                    log.info(
                        "reader %s: %s is back after %.1f s; listening again",
                        self.reader_id,
                        self.port,
                        time.monotonic() - down_since,
                    )
                ever_opened = True
                down_since = None
                self._backoff.reset()
                self._trouble.reset()
                failure = self._pump(port)
                if failure is None:
                    return
                problem = f"{self.port} disappeared ({failure})"
            if down_since is None:
                down_since = time.monotonic()
            self._pause(problem, down_since)

    def _open_port(self) -> serial.Serial:
        return serial.Serial(
            port=self.port,
            baudrate=self.baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=self._read_timeout_s,
            # A second agent (or a forgotten minicom) on the same port would steal bytes.
            exclusive=True,
        )

    def _pump(self, port: serial.Serial) -> str | None:
        """Read until stopped (return None) or until the port fails (return why)."""
        with port:
            self._open.set()
            try:
                while not self._stop.is_set():
                    data = port.read(port.in_waiting or 1)
                    if data:
                        self._deliver(data)
            except OSError as exc:  # SerialException is an OSError too
                return _describe(exc)
            finally:
                self._open.clear()
        return None

    def _deliver(self, data: bytes) -> None:
        try:
            self._on_data(data)
        except Exception:  # a bug downstream must not stop the port being read
            log.exception(
                "reader %s: internal error while handling %d bytes; carrying on",
                self.reader_id,
                len(data),
            )

    def _pause(self, problem: str, down_since: float) -> None:
        """Log the failure (rate-limited) and wait before the next attempt."""
        delay = self._backoff.next_delay()
        self._trouble.log(
            logging.WARNING,
            "reader %s: %s (unavailable for %.0f s); trying again in %.1f s",
            self.reader_id,
            problem,
            time.monotonic() - down_since,
            delay,
        )
        self._stop.wait(delay)


def _describe(exc: OSError) -> str:
    """A short reason: pyserial repeats the port name and errno in its messages."""
    if exc.errno == errno.EAGAIN:
        # What the exclusive lock reports when another process holds the port.
        return "in use by another program"
    if isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno)
    return str(exc)
