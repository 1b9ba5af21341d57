"""A program run on a real pseudo-terminal, driven as a person would: read a prompt, answer.

Interactive commands behave differently on a terminal (prompts, hidden passwords, colour),
so tests of a wizard run it on a pty, wait until its prompt text has appeared, and only
then type the answer. Every wait has a timeout and names what it waited for.
"""

from __future__ import annotations

import os
import pty
import select
import signal
from typing import TYPE_CHECKING

from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class Terminal:
    """``argv`` running on the slave end of a new pty; this object holds the master end."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        """Start ``argv`` (with ``env`` added to this process's environment)."""
        environment = {**os.environ, **(env or {})}
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the program
            os.execvpe(argv[0], list(argv), environment)  # noqa: S606 - fixed argv
        self.pid = pid
        self._fd = fd
        self.output = ""
        self._seen = 0  # how far expect() has consumed self.output
        self._status: int | None = None

    def _pump(self) -> None:
        """Append whatever the program has written so far (never blocks)."""
        while select.select([self._fd], [], [], 0)[0]:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:  # EIO: the program has exited and closed the terminal
                return
            if not chunk:
                return
            self.output += chunk.decode("utf-8", "replace")

    def expect(self, text: str, timeout: float = 15.0) -> str:
        """Wait until ``text`` appears after what was already expected; return what came before."""

        def appeared() -> int | None:
            self._pump()
            at = self.output.find(text, self._seen)
            return at + len(text) if at >= 0 else None

        end = wait_until(appeared, timeout=timeout, what=f"the program prints {text!r}")
        before, self._seen = self.output[self._seen : end], end
        return before

    def shows(self, text: str) -> bool:
        """Whether ``text`` has appeared after what was already expected (never blocks)."""
        self._pump()
        return text in self.output[self._seen :]

    def answer(self, prompt: str, line: str, timeout: float = 15.0) -> None:
        """Wait for ``prompt``, then type ``line`` and Enter."""
        self.expect(prompt, timeout)
        os.write(self._fd, line.encode() + b"\r")

    def answer_all(self, *dialogue: tuple[str, str]) -> None:
        """Answer each ``(prompt, line)`` in turn (see :meth:`answer`)."""
        for prompt, line in dialogue:
            self.answer(prompt, line)

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for the program to exit (reading its output meanwhile); return its status."""

        def exited() -> bool:
            self._pump()
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._status = os.waitstatus_to_exitcode(status)
            return self._status is not None

        wait_until(exited, timeout=timeout, what=f"process {self.pid} exits")
        self._pump()
        assert self._status is not None  # noqa: S101 - set by exited()
        return self._status

    def close(self) -> None:
        """Kill the program if it still runs, and close the terminal."""
        if self._status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._status = -signal.SIGKILL
        os.close(self._fd)
