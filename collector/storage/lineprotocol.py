r"""InfluxDB line protocol: a validated :class:`Point` and its one-line encoding. Pure.

A :class:`Point` checks itself when built, so :func:`to_line` cannot fail and never
produces a line the server would misread. The rules were measured against the real
InfluxDB 1.6.7 (see ``tests/test_lineprotocol.py``, which round-trips arbitrary text
through a live server):

Names (measurement, tag keys, tag values, field keys)
    Any UTF-8 text except control characters (Unicode category Cc: ``\n``, ``\r``,
    ``\t``, NUL, ...) and the backslash. Commas and spaces are escaped everywhere, ``=``
    in keys and tag values. Why the exclusions:

    - a raw newline ends the line; line protocol has no escape for it in names, and
      1.6.7 silently trims a leading tab from a measurement;
    - 1.6.7 treats a backslash differently in each position (``\"`` becomes ``"`` in
      field keys and measurements but stays two characters in tag keys; a trailing
      backslash makes the line unparsable; ``\,`` in a field key breaks it), and the
      documented escaping rules changed between InfluxDB versions: no encoding
      round-trips every backslash in every position.

    A measurement must not start with ``#`` (the server takes the line for a comment and
    answers 204 having stored nothing). ``time`` is not allowed as a tag or field key
    (1.x rejects it), nor may one key be both a tag and a field (unreadable afterwards).
    A tag whose value is empty is omitted, as line protocol cannot carry it.

String field values
    Any text. ``"`` and ``\`` are escaped. A newline (or any other control character) is
    written as it is, inside the quotes: 1.6.7 stores and returns it exactly, also in the
    middle of a multi-line body. There is no ``\n`` escape (1.6.7 would store a
    backslash and an ``n``), so replacing newlines would change the data.

Other values
    ``bool`` as ``true``/``false``; ``int`` as ``123i`` within signed 64 bits; ``float``
    finite only (NaN and infinities have no line-protocol form). Timestamps are integer
    nanoseconds within InfluxDB's range ``±9223372036854775806``.

Tags are written sorted by key (what InfluxDB recommends for speed); fields in the
order given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias

from collector.errors import InvalidPointError

if TYPE_CHECKING:
    from collections.abc import Mapping

FieldValue: TypeAlias = bool | int | float | str
"""The value types a field can hold."""

MIN_TIME_NS: Final = -9_223_372_036_854_775_806
MAX_TIME_NS: Final = 9_223_372_036_854_775_806
"""InfluxDB's time range (int64 minus two sentinel values at each end)."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
"""The range of an integer field."""

# Control characters (Cc) and backslash: not allowed in names (see the module docstring).
_BAD_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
# Lone surrogates cannot be encoded as UTF-8 at all.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_RESERVED_KEYS: Final = frozenset({"time"})

_MEASUREMENT_ESCAPES: Final = str.maketrans({",": r"\,", " ": r"\ "})
KEY_ESCAPES: Final = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})
STRING_ESCAPES: Final = str.maketrans({"\\": "\\\\", '"': '\\"'})
"""Escapes of tag keys/values and field keys, and of string field values (shared with
:mod:`collector.encoding`, whose fast path must write exactly the same bytes)."""
# Names come from a small set (schema keys, sites, gateways, devices: bounded cardinality
# by design), so checking and escaping each one once pays off on the hot path.
_NAME_CACHE_SIZE: Final = 4096


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point, checked on construction.

    Attributes:
        measurement: the measurement name.
        tags: indexed string values identifying the series; keep their cardinality
            bounded. Empty values are dropped.
        fields: the values themselves (at least one).
        time_ns: nanoseconds since the Unix epoch, UTC.

    Raises:
        InvalidPointError: a name, value or timestamp has no faithful line-protocol form.
    """

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int

    def __post_init__(self) -> None:
        """Check every part, freeze the mappings and drop empty tags."""
        _check_name(self.measurement, "measurement")
        if self.measurement[0] == "#":
            raise InvalidPointError(
                f"measurement {self.measurement!r} starts with '#': InfluxDB would read "
                "the line as a comment"
            )
        tags = {key: value for key, value in self.tags.items() if value != ""}
        for key, value in tags.items():
            _check_key(key, "tag key")
            _check_name(value, f"value of tag {key!r}")
        if not self.fields:
            raise InvalidPointError(f"point in {self.measurement!r} has no fields")
        for key, field_value in self.fields.items():
            _check_key(key, "field key")
            if key in tags:
                raise InvalidPointError(f"{key!r} is both a tag and a field")
            _check_value(key, field_value)
        if not isinstance(self.time_ns, int) or not MIN_TIME_NS <= self.time_ns <= MAX_TIME_NS:
            raise InvalidPointError(
                f"timestamp {self.time_ns!r} is outside InfluxDB's range "
                f"{MIN_TIME_NS}..{MAX_TIME_NS} ns"
            )
        object.__setattr__(self, "tags", MappingProxyType(tags))
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))


def to_line(point: Point) -> str:
    """Encode ``point`` as one line of line protocol (without the trailing newline)."""
    parts = [_escape_measurement(point.measurement)]
    parts.extend(
        f",{_escape_key(key)}={_escape_key(point.tags[key])}" for key in sorted(point.tags)
    )
    fields = ",".join(
        f"{_escape_key(key)}={_encode_value(value)}" for key, value in point.fields.items()
    )
    parts.append(f" {fields} {point.time_ns}")
    return "".join(parts)


def _encode_value(value: FieldValue) -> str:
    # bool first: it is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return f'"{value.translate(STRING_ESCAPES)}"'


@lru_cache(maxsize=_NAME_CACHE_SIZE)
def _escape_measurement(name: str) -> str:
    return name.translate(_MEASUREMENT_ESCAPES)


@lru_cache(maxsize=_NAME_CACHE_SIZE)
def _escape_key(name: str) -> str:
    return name.translate(KEY_ESCAPES)


@lru_cache(maxsize=_NAME_CACHE_SIZE)
def _is_good_name(text: str) -> bool:
    return bool(text) and not (_BAD_IN_NAME.search(text) or _SURROGATE.search(text))


def is_storable_name(text: str) -> bool:
    """Whether ``text`` can be a name (measurement, tag key or value, field key) at all."""
    # type() rather than isinstance(): the cache needs a hashable, plain str.
    return type(text) is str and _is_good_name(text)


def _check_name(text: str, what: str) -> None:
    if is_storable_name(text):
        return
    if not isinstance(text, str) or not text:
        raise InvalidPointError(f"{what} must be non-empty text, got {text!r}")
    bad = _BAD_IN_NAME.search(text) or _SURROGATE.search(text)
    if bad is not None:
        raise InvalidPointError(
            f"{what} {text!r} contains {bad.group()!r} at {bad.start()}: names cannot hold "
            "control characters, backslashes or lone surrogates"
        )


def _check_key(key: str, what: str) -> None:
    _check_name(key, what)
    if key in _RESERVED_KEYS:
        raise InvalidPointError(f"{what} {key!r} is reserved by InfluxDB")


def _check_value(key: str, value: object) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidPointError(f"field {key!r}: {value} does not fit in a signed 64-bit int")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidPointError(f"field {key!r}: {value!r} cannot be stored (finite only)")
        return
    if isinstance(value, str):
        bad = _SURROGATE.search(value)
        if bad is not None:
            raise InvalidPointError(f"field {key!r} holds a lone surrogate at {bad.start()}")
        return
    raise InvalidPointError(
        f"field {key!r}: {type(value).__name__} is not a field type (bool, int, float, str)"
    )


__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_TIME_NS",
    "MIN_TIME_NS",
    "FieldValue",
    "Point",
    "is_storable_name",
    "to_line",
]
