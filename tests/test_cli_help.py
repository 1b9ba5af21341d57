"""Every command of both programs shows an example in its --help (issue 13).

Technicians work from ``--help`` over SSH; a command without an example is a command they
have to guess. New commands fail this test until their docstring ends with one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from typer.main import get_command

from collector.cli import app as collector_app
from edge_agent.cli import app as agent_app

if TYPE_CHECKING:
    from collections.abc import Iterator

    import typer


def commands(app: typer.Typer, program: str) -> Iterator[tuple[str, Any]]:
    """(``program sub command``, the command) for every leaf command."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        children = getattr(command, "commands", None)
        if children is None:
            yield " ".join(path), command
            return
        for name, child in children.items():
            yield from walk(child, [*path, name])

    yield from walk(get_command(app), [program])


ALL = [
    *commands(agent_app, "pelangi-agent"),
    *commands(collector_app, "pelangi-collector"),
]


@pytest.mark.parametrize(("name", "command"), ALL, ids=[name for name, _ in ALL])
def test_every_command_shows_an_example(name: str, command: Any) -> None:
    found = re.search(r"\bExamples?\b(.*)", command.help or "", re.DOTALL)
    assert found is not None, f"{name} --help has no 'Example: ...' paragraph"
    assert name in " ".join(found[1].split()), f"{name}: its example should run it: {found[1]!r}"
