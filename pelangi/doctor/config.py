"""The first check of both doctors: the configuration file loads, as ``validate`` loads it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeVar

from pydantic import BaseModel

from pelangi.configfile import load
from pelangi.doctor.model import Result, failed, passed
from pelangi.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

M = TypeVar("M", bound=BaseModel)

CONFIG: Final = "config valid"


def load_config(path: Path, model: type[M], validate: str) -> tuple[Result, M | None]:
    """The config check's result, and the settings when they loaded.

    ``validate`` is the command that shows every problem (``pelangi-agent validate``).
    """
    try:
        settings = load(path, model)
    except ConfigError as exc:
        problems = "; ".join(exc.problems)
        fix = (
            f"correct the file ({validate} --config {path} shows each problem); the other "
            "checks need a valid configuration"
        )
        return Result(CONFIG, failed(f"{exc.path}: {problems}", fix)), None
    return Result(CONFIG, passed(f"{path} is valid")), settings
