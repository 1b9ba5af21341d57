"""Configuration loading: readable problems, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pydantic import Field, SecretStr, model_validator

from pelangi.configfile import StrictModel, load, parse
from pelangi.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


class _Inner(StrictModel):
    port: int = Field(default=1, ge=1, le=65535)
    password: SecretStr | None = None


class _Outer(StrictModel):
    name: str
    inner: _Inner = Field(default_factory=_Inner)
    items: list[_Inner] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_ports(self) -> _Outer:
        if len({item.port for item in self.items}) < len(self.items):
            msg = "two items share a port"
            raise ValueError(msg)
        return self


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, _Outer)
    return caught.value.problems


def test_each_problem_names_key_value_and_expectation() -> None:
    problems = _problems("name: x\ninner:\n  port: 70000\nitems:\n  - port: 0\n  - colour: red\n")
    assert problems == [
        "inner.port: got 70000; expected: Input should be less than or equal to 65535",
        "items[0].port: got 0; expected: Input should be greater than or equal to 1",
        "items[1].colour: unknown key (check the spelling and the indentation)",
    ]


def test_cross_key_checks_name_the_problem_not_the_whole_input() -> None:
    assert _problems("name: x\nitems:\n  - port: 5\n  - port: 5\n") == [
        "(top level): two items share a port"
    ]


def test_missing_required_key() -> None:
    assert _problems("inner: {}\n") == ["name: required key is missing"]


def test_secrets_are_not_echoed() -> None:
    problems = _problems("name: x\ninner:\n  password: [1, 2]\n")
    assert len(problems) == 1
    assert "(hidden)" in problems[0]
    assert "[1, 2]" not in problems[0]


def test_not_yaml_gives_line_and_column() -> None:
    problems = _problems("name: x\n  bad: [\n")
    assert len(problems) == 1
    assert problems[0].startswith("line ")


def test_an_impossible_date_is_a_yaml_problem_with_its_line() -> None:
    # PyYAML itself lets datetime's ValueError escape for 2026-02-30.
    expected = "'2026-02-30' is not a real date (day is out of range for month)"
    assert _problems("name: x\nwhen: 2026-02-30\n") == [
        f"line 2, column 7: not valid YAML: {expected}"
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert _problems("- a\n- b\n") == ["the top level must be a mapping of keys, got list"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load(tmp_path / "absent.yaml", _Outer)


def test_good_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("name: x\ninner:\n  port: 8\n", encoding="utf-8")
    assert load(path, _Outer).inner.port == 8
