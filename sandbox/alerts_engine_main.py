"""The alert engine as a real process: ``python -m sandbox.alerts_engine_main CONFIG``.

Loads the collector configuration ``CONFIG`` and calls
:func:`collector.alerts.service.run_engine` until SIGTERM or SIGINT (a clean stop: the
lease is released); SIGKILL is what the fault tests send. It is what ``pelangi-collector
alerts run`` does, without the CLI (written by another hand, at the same time).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from collector.alerts.service import run_engine
from collector.config import CollectorSettings
from pelangi.cli import load_or_exit

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the engine of the configuration file named by the only argument."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m sandbox.alerts_engine_main CONFIG\n")
        return 2
    config = Path(args[0])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    settings = load_or_exit(config, CollectorSettings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_engine(settings, stop, config_path=config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
