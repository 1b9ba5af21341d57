"""``--version`` of both programs, from the installed package's metadata (pyproject's version).

Read from :mod:`importlib.metadata` rather than a constant in the code: the number a
technician reports is then the one pip installed.
"""

# No ``from __future__ import annotations``: typer evaluates the callback's annotations,
# which name a local function.

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Final

import typer

DISTRIBUTION: Final = "pelangi"


@cache  # the running agent puts it in its status file every few seconds
def package_version() -> str:
    """The installed version of the ``pelangi`` distribution (``unknown`` if not installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def add_version_option(app: typer.Typer, program: str) -> None:
    """Give ``app`` a ``--version`` option printing ``PROGRAM X.Y.Z``.

    Eager, so it answers before anything else is checked: ``pelangi-agent --version``
    works on a gateway with no configuration yet.
    """

    def show(value: bool) -> None:  # noqa: FBT001 - typer passes the flag positionally
        if value:
            typer.echo(f"{program} {package_version()}")
            raise typer.Exit

    @app.callback()
    def main(
        *,
        _version: Annotated[
            bool,
            typer.Option(
                "--version", callback=show, is_eager=True, help="Print the version and exit."
            ),
        ] = False,
    ) -> None:
        # No docstring: it would replace the help text the program gives typer.Typer.
        return

    del main  # registered with the app; nothing else calls it
