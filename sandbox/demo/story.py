"""The demo's story in order, and the clean-up that ends it whatever happens.

:func:`run` tells the story step by step (the servers, the deployment, then
:mod:`.cards`, :mod:`.devices` and :mod:`.resilience`); :func:`main` runs it and cleans up
whatever happens.
"""

from __future__ import annotations

import re
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Final

from sandbox.demo.alerts import alerts_extra, show_alerts, start_mail_server
from sandbox.demo.attendance import collector_extra, show_attendance
from sandbox.demo.cards import check_rows, print_table, tap_cards, time_one_tap, wait_for_rows
from sandbox.demo.dashboards import show_dashboards
from sandbox.demo.devices import agent_devices, plug_in_door_and_switch, show_devices
from sandbox.demo.output import say, step
from sandbox.demo.resilience import CONFIRM_TIMEOUT_S, show_resilience
from sandbox.demo.stage import DATABASE, GATEWAY, HOLD_GAP_MS, READER, SITE, Demo
from sandbox.demo.toolkit import show_toolkit
from sandbox.deployment import Deployment, DeploymentSettings, Reader
from sandbox.processes import SandboxError
from sandbox.servers import InfluxDB, Mosquitto, SerialPty

EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130

# Log lines worth showing after the run: problems, rejections, the agent's totals.
_NOTABLE = re.compile(
    r" (WARNING|ERROR|CRITICAL) |reject|bad|ignored|garbage|noise|totals|stored|wrote|stopped",
    re.IGNORECASE,
)


def run(demo: Demo) -> None:
    """The demo's story; raises on the first thing that does not work."""
    work = demo.work
    say("Pelangi demo: RFID reader -> edge agent -> MQTT -> collector -> InfluxDB, all on this")
    say(f"machine, in the temporary folder {work}")

    step("Starting a private MQTT broker (Mosquitto)")
    broker = Mosquitto(work / "mosquitto")
    demo.start_server(broker, "mosquitto")
    say(f"    listening on {broker.address}, PID {broker.pid}")

    step("Starting a private InfluxDB 1.6 database server")
    influx = InfluxDB(work / "influxdb")
    demo.start_server(influx, "influxd")
    say(f"    HTTP API at {influx.url}, PID {influx.pid}")

    step("Plugging in a simulated RDM6300 card reader (a socat pseudo-terminal)")
    pty = SerialPty(work / "dev", "ttyRFID0")
    demo.start_server(pty, "socat")
    say(f"    the agent will open {pty.device} as if it were /dev/ttyUSB0")

    door_pty, switch = plug_in_door_and_switch(demo)

    step("Starting a private mail server (aiosmtpd) for the alert emails")
    smtp = start_mail_server(demo, work)
    say(f"    SMTP at {smtp.host}:{smtp.port}, PID {smtp.pid}")

    deployment = Deployment(
        work / "pelangi",
        broker=broker,
        influx=influx,
        database=DATABASE,
        readers=[Reader(READER, pty, hold_gap_ms=HOLD_GAP_MS)],
        settings=DeploymentSettings(
            site=SITE,
            gateway=GATEWAY,
            batch_max_delay_ms=100,
            agent_extra={
                **agent_devices(door_pty, switch),
                "outbox": {"confirm_timeout_s": CONFIRM_TIMEOUT_S},
            },
            collector_extra={
                **collector_extra(work / "pelangi"),
                "alerts": alerts_extra(smtp),
            },
        ),
    )
    demo.deployment = deployment
    demo.log_book.add("pelangi-agent", deployment.agent)
    demo.log_book.add("pelangi-collector", deployment.collector)

    step("Writing the configuration files")
    deployment.write_configs()
    say(f"    {deployment.agent_config_path}")
    say(f"    {deployment.collector_config_path}")

    step(f"Creating the database {DATABASE!r}: pelangi-collector setup-db")
    for line in deployment.setup_db().splitlines():
        say(f"    {line}")

    step("Starting the collector: pelangi-collector run")
    deployment.start_collector()
    say(f"    PID {deployment.collector.pid}, subscribed at the broker")

    step("Starting the agent: pelangi-agent run")
    deployment.start_agent()
    say(f"    PID {deployment.agent.pid}, connected to the broker, reader port open")

    time_one_tap(pty, influx)
    expected = tap_cards(pty, broker, deployment)

    step("Waiting until InfluxDB holds every tap")
    rows = wait_for_rows(influx, expected)
    print_table(rows)
    check_rows(rows, expected)

    show_devices(demo, door_pty, influx)
    show_toolkit(deployment)
    show_resilience(deployment, broker, pty, influx)
    show_alerts(demo, deployment, door_pty, smtp)

    step("Stopping the agent and the collector (SIGTERM)")
    for name, status in deployment.stop().items():
        say(f"    {name} exited with status {status}")
    show_notable_lines(deployment)

    show_what_people_keep(demo, deployment)


def show_what_people_keep(demo: Demo, deployment: Deployment) -> None:
    """The attendance report and the dashboards: made for people, kept after the demo."""
    # Attendance reads what was stored (InfluxDB, the state database), not the collector:
    # the story ends with it and with what the facility managers will see in Grafana.
    report = show_attendance(deployment, Path(tempfile.mkdtemp(prefix="pelangi-demo-report-")))
    demo.kept.append(report)
    boards = Path(tempfile.mkdtemp(prefix="pelangi-demo-dashboards-"))
    demo.kept.append(show_dashboards(deployment, boards))


def show_notable_lines(deployment: Deployment, limit: int = 12) -> None:
    """Print the log lines of the agent and collector worth a look."""
    for process in (deployment.agent, deployment.collector):
        step(f"Notable lines from the {process.name} log ({process.log_path})")
        notable = [line for line in process.log_text().splitlines() if _NOTABLE.search(line)]
        for line in notable[-limit:] or ["(none)"]:
            say(f"    {line}")


def main() -> int:
    """Run the demo; always clean up; return the exit status."""
    demo = Demo(Path(tempfile.mkdtemp(prefix="pelangi-demo-")))
    status = EXIT_FAILED
    try:
        run(demo)
        status = 0
    except KeyboardInterrupt:
        say()
        say("Interrupted: cleaning up.")
        status = EXIT_INTERRUPTED
    except (SandboxError, TimeoutError) as exc:
        say()
        say(f"DEMO FAILED: {exc}")
        say()
        say("The last lines of each log:")
        say(demo.log_book.render(30))
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            step("Stopping everything the demo started")
            leftovers = demo.stop_all()
            names = ", ".join(f"{p.name} (PID {p.pid})" for p in demo.processes()) or "nothing"
            if leftovers:
                say(f"    STILL RUNNING: {', '.join(leftovers)}")
                status = EXIT_FAILED
            else:
                say(f"    stopped: {names}; nothing is left running")
        finally:
            shutil.rmtree(demo.work, ignore_errors=True)
            say(f"    removed {demo.work}")
            signal.signal(signal.SIGINT, previous)
    for kept in demo.kept:
        say(f"    kept for you to open: {kept}")
    say()
    say(_OUTCOME.get(status, "Demo did not pass."))
    return status


_OUTCOME: Final = {0: "Demo finished: all checks passed.", EXIT_INTERRUPTED: "Demo interrupted."}
