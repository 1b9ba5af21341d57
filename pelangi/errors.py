"""The root of every exception Pelangi raises on purpose.

Tree::

    PelangiError
    ├── ConfigError            a configuration file is unreadable or invalid
    ├── TopicError             an MQTT topic is not part of the scheme
    ├── PayloadError           an MQTT payload breaks the contract (carries a reason code)
    └── CardFormatError        a card number written by a person is in no known form

The edge agent and the collector derive their own errors from ``PelangiError`` too,
so ``except PelangiError`` catches everything that is a known, explained failure.
"""

from __future__ import annotations

from enum import StrEnum


class PelangiError(Exception):
    """Base class of all errors Pelangi raises deliberately."""


class ConfigError(PelangiError):
    """A configuration file could not be read or failed validation.

    Attributes:
        path: the file that was being loaded.
        problems: one readable line per problem, naming the key path, the bad value
            and what was expected.
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        """Create the error for ``path`` with its list of problems."""
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class TopicError(PelangiError):
    """A topic does not follow the Pelangi topic scheme."""


class RejectReason(StrEnum):
    """Why a message was rejected: a small, fixed set, used as a metric label."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID = "invalid"
    BAD_TOPIC = "bad_topic"
    TOPIC_MISMATCH = "topic_mismatch"


class PayloadError(PelangiError):
    """A payload does not satisfy the wire contract.

    Attributes:
        reason: the machine-readable reason code (bounded set, usable as a tag).
        detail: a readable explanation of what was wrong.
    """

    def __init__(self, reason: RejectReason, detail: str) -> None:
        """Create the error with its reason code and a readable detail."""
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class CardFormatError(PelangiError, ValueError):
    """A card number (typed, printed, from a spreadsheet) is in none of the known forms.

    Attributes:
        text: what was given (at most 64 characters of it).
        expected: the forms that would have been understood, in words.
    """

    def __init__(self, text: str, expected: str) -> None:
        """Create the error for ``text``."""
        self.text = text[:64]
        self.expected = expected
        super().__init__(f"card number {self.text!r} is in no known form: expected {expected}")
