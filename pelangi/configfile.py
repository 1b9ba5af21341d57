"""Load YAML configuration into pydantic models, with errors a technician can act on.

A bad file never produces a traceback: :func:`load` raises :class:`ConfigError` whose
``problems`` hold one line per problem, e.g.::

    mqtt.port: got 70000; expected: Input should be less than or equal to 65535
    readers[0].baud: unknown key 'baud' (check the spelling; see config/agent.example.yaml)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from pelangi.errors import ConfigError

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

M = TypeVar("M", bound=BaseModel)

_SECRET_WORDS = ("password", "token", "secret")
# scheme://user:password@host: the password part of a URL echoed in a problem line.
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:\s]*):[^/@\s]*@")


class _Loader(yaml.SafeLoader):
    """The safe loader, with an impossible date (``2026-02-30``) a YAML error with its line.

    PyYAML's own timestamp constructor lets ``datetime``'s ValueError escape, which is no
    YAMLError: a configuration with a date in it would end in a traceback.
    """

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys rejected, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load(path: Path, model: type[M]) -> M:
    """Read ``path`` as YAML and validate it against ``model``.

    Raises:
        ConfigError: the file is missing, unreadable, not YAML, or invalid; its
            ``problems`` list says what and where.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"the file is not UTF-8 text: {exc.reason}"]) from None
    return parse(text, model, source=str(path))


def parse(text: str, model: type[M], *, source: str = "<config>") -> M:
    """Validate YAML ``text`` against ``model`` (see :func:`load`)."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader, see _Loader
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_problem(exc)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"the top level must be a mapping of keys, got {type(data).__name__}"]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, describe(exc)) from None


def describe(exc: ValidationError) -> list[str]:
    """One readable line per validation problem: key path, bad value, expectation."""
    lines = []
    for err in exc.errors(include_url=False):
        where = _key_path(err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key (check the spelling and the indentation)")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        elif err["type"] == "value_error" and not isinstance(err["input"], str | int | float):
            # A check across several keys (e.g. duplicate ids): the input is a whole
            # section, too big to echo; the message already names what is wrong.
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{where}: got {_show(err['loc'], err['input'])}; expected: {err['msg']}")
    return lines


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part:
            # pydantic labels validator and union steps like "function-after[...]": not keys.
            continue
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _show(loc: tuple[int | str, ...], value: Any) -> str:  # noqa: ANN401 - any YAML value
    if any(isinstance(part, str) and any(w in part for w in _SECRET_WORDS) for part in loc):
        return "(hidden)"
    text = _URL_PASSWORD.sub(r"\1:***@", repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}"
    return f"not valid YAML: {problem}"
