"""What the sandbox's own Python servers (SMTP, webhook) share: how their child is run."""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """Our environment, with the checkout on ``PYTHONPATH``.

    ``sandbox`` is not installed: ``python -m sandbox.servers...`` finds it only from the
    checkout, whatever the working directory of the test or demo that starts the server.
    """
    paths = [str(_CHECKOUT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
