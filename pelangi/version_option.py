"""``--version`` of both programs: ``pelangi-agent 0.1.0``, from the installed package.

Apart from :mod:`pelangi.version` so that the running agent, which puts its version in
its status file, does not import typer for it.
"""

# No ``from __future__ import annotations``: typer evaluates the callback's annotations,
# which name a local function.

from typing import Annotated

import typer

from pelangi.version import package_version


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


__all__ = ["add_version_option"]
