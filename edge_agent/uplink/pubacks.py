"""Which outbox batch a PUBACK answers: paho's message ids mapped to the publisher's tokens.

Pure. The answer can beat :meth:`paho.mqtt.client.Client.publish` returning (paho's
network thread may read the PUBACK before the publishing thread records the mid), so an
answer for a mid not recorded yet is kept until the publish side records it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

A = TypeVar("A")


class Pubacks(Generic[A]):
    """mid -> (token, topic) for the current connection, and answers that came first."""

    def __init__(self) -> None:
        """Start empty."""
        self._tokens: dict[int, tuple[int, str]] = {}
        self._early: dict[int, A] = {}

    def sent(self, mid: int, token: int, topic: str) -> A | None:
        """Record that ``mid`` carries ``token`` on ``topic``; return its answer if it came."""
        early = self._early.pop(mid, None)
        if early is None:
            self._tokens[mid] = (token, topic)
        return early

    def answered(self, mid: int, answer: A) -> tuple[int, str] | None:
        """The broker answered ``mid``: its (token, topic), or None (kept for :meth:`sent`)."""
        sent = self._tokens.pop(mid, None)
        if sent is None:
            self._early[mid] = answer
        return sent

    def clear(self) -> None:
        """The connection ended: nothing recorded will be answered."""
        self._tokens.clear()
        self._early.clear()
