"""What the collector is compared with: count-only subscribers, raw ingest, a naive bridge."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Final

import urllib3

from sandbox.bench.collector.runs import quiet_heap, wait_progress
from sandbox.bench.collector.sessions import NetworkLoop
from sandbox.bench.collector.stored import drop_quietly, verify_stored
from sandbox.processes import SandboxError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import paho.mqtt.client as paho

    from sandbox.bench.collector.runs import Run
    from sandbox.bench.collector.sessions import LoopStyle, Session
    from sandbox.servers import InfluxDB, Mosquitto

INGEST_BATCH: Final = 5000
INGEST_REPEATS: Final = 3
"""Ingest runs are cheap and InfluxDB's own pace varies (cache snapshots): best of 3."""
NAIVE_BATCH: Final = 5000
NAIVE_MAX_DELAY_S: Final = 0.1


def naive_lines(payload: bytes | bytearray) -> list[str]:
    """Line protocol for one payload, as a naive bridge builds it: no validation at all.

    The fields are those the collector stores for a card read or an interface, so that
    InfluxDB does the same work for both.
    """
    message = json.loads(payload)
    tags = f"device={message['device']},gateway={message['gateway']}"
    site = f"site={message['site']}"
    lines = []
    for reading in message["readings"]:
        if reading["kind"] == "interface":
            port = reading["port"].replace(" ", "\\ ").replace(",", "\\,")
            oper = reading["oper"]
            lines.append(
                f"interface,{tags},port={port},{site} if_index={reading['if_index']}i,"
                f'alias="{reading["alias"]}",admin="{reading["admin"]}",oper="{oper}",'
                f"oper_up={int(oper == 'up')}i,"
                f"speed_mbps={reading['speed_mbps']}i,"
                f"in_bps={reading['in_bps']},out_bps={reading['out_bps']},"
                f"in_errors_ps={reading['in_errors_ps']},out_errors_ps={reading['out_errors_ps']},"
                f"in_discards_ps={reading['in_discards_ps']},"
                f"out_discards_ps={reading['out_discards_ps']},seq={reading['seq']}i "
                f"{reading['ts']}"
            )
            continue
        card = reading["card"]
        number = int(card["uid"], 16)
        lines.append(
            f'card_read,{tags},{site} uid="{card["uid"]}",printed="{number:010d}",'
            f'raw="{card["raw"]}",'
            f"bits={card['bits']}i,seq={reading['seq']}i,"
            f"w26_facility={(number >> 16) & 0xFF}i,w26_card={number & 0xFFFF}i "
            f"{reading['ts']}"
        )
    return lines


def drain_count_only(
    broker: Mosquitto, session: Session, run: Run, loop: LoopStyle = "forever"
) -> None:
    """Drain ``session`` with a paho subscriber that only counts messages (auto-ack)."""
    assert run.messages is not None  # noqa: S101 - a count-only run counts messages
    expected = run.messages
    client = session.client(broker)
    received = 0
    done_at = 0.0

    def on_message(_client: paho.Client, _userdata: object, _message: paho.MQTTMessage) -> None:
        nonlocal received, done_at
        received += 1
        if received == expected:
            done_at = time.perf_counter()

    client.on_message = on_message
    network = NetworkLoop(client, loop)
    quiet_heap()
    started = time.perf_counter()
    session.connect(client, broker)
    network.start()
    try:
        wait_progress(lambda: received, expected, "count-only subscriber", 0.01)
        run.elapsed_s = done_at - started
    except TimeoutError as exc:
        run.error = str(exc)
    finally:
        network.stop()
        run.received = received


def ingest_line_protocol(
    influx: InfluxDB,
    db: str,
    lines: Sequence[str],
    run: Run,
    *,
    connections: int = 1,
) -> None:
    """POST pre-built line protocol in 5,000-point batches, one thread per connection.

    Each repeat writes into a fresh database (dropped afterwards); the run keeps the best
    time (a ceiling: noise only ever slows it down) and the smallest count stored.
    """
    bodies = [
        "\n".join(lines[i : i + INGEST_BATCH]).encode() for i in range(0, len(lines), INGEST_BATCH)
    ]
    samples: list[float] = []
    stored: list[int] = []
    for repeat in range(INGEST_REPEATS):
        target = f"{db}_{repeat}"
        influx.create_database(target)
        try:
            samples.append(_post_all(influx, target, bodies, connections))
            stored.append(verify_stored(influx, target, run.readings))
        except SandboxError as exc:
            run.error = str(exc)
            return
        finally:
            drop_quietly(influx, target)
    run.samples = tuple(samples)
    run.elapsed_s = min(samples)
    run.stored = min(stored)


def _post_all(influx: InfluxDB, db: str, bodies: Sequence[bytes], connections: int) -> float:
    """POST ``bodies`` to ``db`` over ``connections`` connections; return the seconds taken.

    Raises:
        SandboxError: InfluxDB refused a write or a request failed.
    """
    path = f"/write?db={db}&precision=ns"
    errors: list[str] = []

    def post(share: Sequence[bytes]) -> None:
        pool = urllib3.HTTPConnectionPool(influx.host, influx.port, maxsize=1, retries=False)
        try:
            for body in share:
                response = pool.request("POST", path, body=body)
                if response.status != 204:
                    errors.append(f"InfluxDB answered {response.status}: {response.data[:200]!r}")
                    return
        except urllib3.exceptions.HTTPError as exc:
            errors.append(f"POST failed: {exc!r}")
        finally:
            pool.close()

    threads = [
        threading.Thread(target=post, args=(bodies[k::connections],), name=f"bench-ingest-{k}")
        for k in range(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SandboxError(errors[0])
    return elapsed


class NaiveBridge:
    """Subscribe, batch, POST, auto-ack, no validation: the baseline a collector must beat.

    Everything happens in paho's network thread (a POST holds up receiving, as in most
    hand-written bridges); a timer thread flushes a partial batch after 100 ms.
    """

    def __init__(self, influx: InfluxDB, db: str, expected_points: int) -> None:
        """Write into ``db``; note the time when ``expected_points`` have been stored."""
        self._pool = urllib3.HTTPConnectionPool(influx.host, influx.port, maxsize=1, retries=False)
        self._path = f"/write?db={db}&precision=ns"
        self._expected = expected_points
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._first_at = 0.0
        self.stored = 0
        self.done_at = 0.0
        self.error: str | None = None

    def on_message(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        """Take one message (paho's callback): add its lines; POST if a batch is full."""
        lines = naive_lines(message.payload)
        with self._lock:
            if not self._lines:
                self._first_at = time.monotonic()
            self._lines.extend(lines)
            if len(self._lines) >= NAIVE_BATCH:
                self._flush_locked()

    def flush_when_due(self) -> None:
        """POST a partial batch that has waited 100 ms (called by the timer thread)."""
        with self._lock:
            if self._lines and time.monotonic() - self._first_at >= NAIVE_MAX_DELAY_S:
                self._flush_locked()

    def _flush_locked(self) -> None:
        body = "\n".join(self._lines).encode()
        points = len(self._lines)
        self._lines = []
        try:
            response = self._pool.request("POST", self._path, body=body)
        except urllib3.exceptions.HTTPError as exc:
            self.error = f"POST failed: {exc!r}"  # auto-acked already: these are lost
            return
        if response.status != 204:
            self.error = f"InfluxDB answered {response.status}: {response.data[:200]!r}"
            return
        self.stored += points
        if self.stored >= self._expected and not self.done_at:
            self.done_at = time.perf_counter()

    def close(self) -> None:
        """Release the HTTP connection."""
        self._pool.close()


def run_naive_bridge(
    broker: Mosquitto, influx: InfluxDB, session: Session, db: str, run: Run
) -> None:
    """Drain ``session`` through a :class:`NaiveBridge` into ``db``."""
    influx.create_database(db)
    bridge = NaiveBridge(influx, db, run.readings)
    client = session.client(broker)
    client.on_message = bridge.on_message
    stop = threading.Event()

    def timer() -> None:
        while not stop.wait(0.01):
            bridge.flush_when_due()

    ticker = threading.Thread(target=timer, name="naive-bridge-timer", daemon=True)
    ticker.start()
    network = NetworkLoop(client, "forever")
    quiet_heap()
    started = time.perf_counter()
    session.connect(client, broker)
    network.start()

    def stored() -> int:
        if bridge.error is not None:
            raise SandboxError(bridge.error)  # fail fast: auto-acked readings are gone
        return bridge.stored

    try:
        wait_progress(stored, run.readings, "naive bridge", 0.01)
        run.elapsed_s = bridge.done_at - started
    except (TimeoutError, SandboxError) as exc:
        run.error = str(exc)
    finally:
        network.stop()
        stop.set()
        ticker.join()
        bridge.close()
    if bridge.error is not None:
        run.error = bridge.error
    run.stored = verify_stored(influx, db, run.readings)
