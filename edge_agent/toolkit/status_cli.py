"""The ``pelangi-agent status`` command: what the running agent says about itself.

It reads the status file the agent replaces every few seconds
(:mod:`edge_agent.toolkit.statusfile`); it opens no connection. Exit status: 0 when
the agent is running and wrote it recently, 1 when it is stopped, stuck or has never
written one (the fix says what to look at), 2 when the configuration is not valid.
"""

from __future__ import annotations

import time
from typing import Any

from edge_agent.config import AgentSettings
from edge_agent.toolkit.options import DEFAULT_CONFIG, ConfigOption
from edge_agent.toolkit.statusfile import STALE_FACTOR, age_s, read_status, status_path
from pelangi.cli import load_or_exit
from pelangi.console import JsonOption, emit_json, escape, fail, mark, stdout, table

NOT_RUNNING_FIX = "the agent is not running or is stuck: systemctl status pelangi-agent"


def status(config: ConfigOption = DEFAULT_CONFIG, *, as_json: JsonOption = False) -> None:
    """Show what the running agent reports: connection, bdseq, outbox, last delivery, problems.

    Read from the status file it writes every 5 s in its state directory (no network).

    Example: pelangi-agent status --config /etc/pelangi/agent.yaml --json
    """
    settings = load_or_exit(config, AgentSettings)
    path = status_path(settings.state_dir)
    try:
        document = read_status(path)
        age = age_s(document, time.time())
    except FileNotFoundError:
        raise fail(
            f"no status file at {path}: the agent has not run with this state_dir",
            "start it: systemctl start pelangi-agent (then: systemctl status pelangi-agent)",
        ) from None
    except PermissionError:
        raise fail(
            f"cannot read the status file {path}: permission denied",
            "run it as root or as a member of the agent's group: sudo pelangi-agent status",
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the status file {path}: {exc}", NOT_RUNNING_FIX) from None
    interval = float(document.get("interval_s", 5.0))
    stale = age > STALE_FACTOR * interval
    running = bool(document.get("running", True))
    if as_json:
        emit_json({**document, "age_s": round(age, 1), "stale": stale, "path": str(path)})
    else:
        _print(document, age)
    if not running:
        raise fail(
            f"the agent stopped {_ago(age)} (this is what it said last)",
            "start it: systemctl start pelangi-agent",
        )
    if stale:
        raise fail(
            f"the status is {_ago(age)} old; the agent writes it every {interval:g} s",
            NOT_RUNNING_FIX,
        )


def _print(document: dict[str, Any], age: float) -> None:
    console = stdout()
    outbox = document.get("outbox", {})
    console.print(
        f"agent {document.get('site')}/{document.get('gateway')} "
        f"(pid {document.get('pid')}, version {document.get('version')}), "
        f"up {_duration(float(document.get('uptime_s', 0)))}; status written {_ago(age)}",
        markup=False,
    )
    connected = bool(document.get("connected"))
    state = "connected" if connected else "NOT connected"
    holding = ", holding readings back" if document.get("holding") else ""
    console.print(
        f"{mark('ok' if connected else 'fail')} mqtt {document.get('mqtt')}: {state}"
        f" (bdseq {document.get('bdseq')}){holding}"
    )
    readings, oldest = outbox.get("readings", 0), outbox.get("oldest_age_s")
    backlog = f", oldest {_duration(float(oldest))} old" if oldest is not None else ""
    sign = mark("warn") if readings else mark("ok")
    console.print(f"{sign} outbox: {readings} reading(s){backlog}")
    last = document.get("last_delivery_at")
    console.print(f"  last delivery: {last or 'none since the agent started'}", markup=False)
    problems = document.get("problems") or []
    for problem in problems:  # the agent's words: never read as markup
        console.print(f"{mark('fail')} {escape(str(problem))}")
    if not problems:
        console.print(f"{mark('ok')} no problems reported")
    drivers = document.get("drivers") or {}
    if drivers:
        table(["counter", "value"], sorted(drivers.items()), title="drivers")


def _ago(age: float) -> str:
    return f"{_duration(age)} ago" if age >= 0 else "in the future (clock changed?)"


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
