"""Collector benchmark: readings/s from a pre-filled persistent session into InfluxDB.

For each message shape, (a) one reading per message and (b) 48 readings per message (a
switch poll), a fresh private Mosquitto is started (InfluxDB is shared, one database per
run) and one backlog of N messages is queued at once in four persistent sessions
(created with a QoS 1 subscription, then left offline while the backlog is published).
Then, one after the other, each consumer drains its own session:

1. a paho subscriber that only counts messages, the way a plain paho script runs
   (MQTT 3.1.1, ``loop_forever``): the broker + paho ceiling;
2. the same with the collector's MQTT setup (MQTT v5, its Receive Maximum, paho's
   ``loop_start`` thread): the ceiling of that setup;
3. InfluxDB ingesting the same points as pre-built line protocol, on one connection and
   on two (no MQTT): the storage ceiling;
4. a naive bridge: json.loads + f-string line protocol, POST every 5,000 points or
   100 ms, auto-ack, no validation;
5. the real ``pelangi-collector run`` as a child process with its default settings:
   validation against the contract, ack only after the write that stored the message.

Zero loss is verified with ``SELECT count`` in InfluxDB (points == readings published)
for the ingest runs, the naive bridge and the collector, and by message count for the
count-only subscribers.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import paho.mqtt.client as paho
import urllib3
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.config import CollectorSettings, InfluxV1Settings
from pelangi.card import CardId
from pelangi.mqtt import MqttSettings, make_client
from pelangi.payloads import CardRead, Envelope, InterfaceReading, encode
from pelangi.topics import reading_filter
from sandbox.bench.report import (
    BenchResult,
    Check,
    Table,
    count,
    ratio,
    seconds,
)
from sandbox.processes import ChildProcess, SandboxError, venv_program
from sandbox.servers import InfluxDB, InfluxQueryError, Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from paho.mqtt.reasoncodes import ReasonCode

NAME: Final = "collector"

MqttProtocol = Literal["3.1.1", "5"]
LoopStyle = Literal["forever", "start"]

SITE: Final = "bench-site"
GATEWAY: Final = "gw-bench"
DEVICES: Final = 100
"""Readings are spread over this many devices (series), as from 100 readers."""
BASE_TS_NS: Final = (time.time_ns() // 10**9 - 3600) * 10**9
"""An hour before the benchmark started: inside the collector's plausibility window."""
TS_STEP_NS: Final = 1000
PORTS: Final = 48
"""Ports of one simulated switch: (b) is one poll of all of them per message."""

SESSION_EXPIRY_S: Final = 3600
INGEST_BATCH: Final = 5000
INGEST_REPEATS: Final = 3
"""Ingest runs are cheap and InfluxDB's own pace varies (cache snapshots): best of 3."""
NAIVE_BATCH: Final = 5000
NAIVE_MAX_DELAY_S: Final = 0.1
PUBLISH_WINDOW: Final = 10_000
"""Unacknowledged publishes allowed in flight (paho refuses more than 65,535)."""
STALL_TIMEOUT_S: Final = 60.0
"""A run that makes no progress for this long has failed."""
STATS_POLL_S: Final = 0.025
"""How often the collector's progress is read from InfluxDB's write counters (cheap)."""
COUNT_POLL_S: Final = 0.5
"""How often ``SELECT count`` is repeated while it disagrees (counting costs CPU)."""

# Targets from the issue (2-core machine).
TARGET_VS_NAIVE: Final = 1.2
TARGET_VS_COUNT_ONLY: Final = 0.6
TARGET_BATCH_READINGS_PER_S: Final = 150_000
TARGET_RSS_BYTES: Final = 100 * 1000 * 1000

BROKER_CONF: Final = """\
# Unlimited offline queue: the default (1,000) silently drops the rest of a backlog.
max_queued_messages 0
max_queued_bytes 0
# The in-flight window of MQTT 3.1.1 clients; v5 clients ask with Receive Maximum.
max_inflight_messages 1000
"""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big the backlogs are."""

    single_messages: int = 100_000
    """Messages in backlog (a), one reading each."""
    batch_messages: int = 10_000
    """Messages in backlog (b)."""
    readings_per_batch_message: int = 48
    """Readings per message in backlog (b) (a 48-port switch poll)."""


FULL: Final = Sizes()
QUICK: Final = Sizes(single_messages=10_000, batch_messages=500)


# -- the backlog -------------------------------------------------------------------------


def _card_read(n: int) -> CardRead:
    # Knuth's multiplicative hash spreads card numbers over the 32-bit space.
    number = (n * 2_654_435_761) & 0xFFFF_FFFF
    card = CardId(raw=f"01{number:08X}", uid=f"{number:08X}", bits=32)
    return CardRead(seq=n, ts=BASE_TS_NS + n * TS_STEP_NS, card=card)


def _interface(n: int, port: int) -> InterfaceReading:
    # Every field the agent fills for a healthy port, values varying with n.
    return InterfaceReading(
        seq=n,
        ts=BASE_TS_NS + n * TS_STEP_NS,
        if_index=port,
        port=f"Gi1/0/{port}",
        alias=f"office {port}",
        admin="up",
        oper="up" if n % 7 else "down",
        speed_mbps=1000,
        in_bps=float(n % 1_000_000) * 8.5,
        out_bps=float(n % 777_777) * 3.25,
        in_errors_ps=0.0,
        out_errors_ps=0.0,
        in_discards_ps=float(n % 3) / 60,
        out_discards_ps=0.0,
    )


def make_envelope(i: int, readings_per_message: int) -> Envelope:
    """Message ``i`` of a backlog: ``readings_per_message`` readings of one device.

    Readings are numbered across the whole backlog (``seq`` and ``ts`` increase with it),
    so every reading is a distinct point in InfluxDB and a count proves nothing was lost.
    Devices take turns (``dev-000`` .. ``dev-099``). One reading per message is a card
    read (a reader); more is a switch poll: one :class:`InterfaceReading` per port
    (``Gi1/0/1`` ...), as the agent's SNMP poller sends.
    """
    first = i * readings_per_message
    readings: tuple[CardRead, ...] | tuple[InterfaceReading, ...]
    if readings_per_message == 1:
        readings = (_card_read(first),)
    else:
        readings = tuple(_interface(first + k, k % PORTS + 1) for k in range(readings_per_message))
    return Envelope(
        v=1, site=SITE, gateway=GATEWAY, device=f"dev-{i % DEVICES:03d}", readings=readings
    )


def make_backlog(messages: int, readings_per_message: int) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` of every message of a backlog, built through the contract."""
    backlog = []
    for i in range(messages):
        envelope = make_envelope(i, readings_per_message)
        backlog.append((str(envelope.topic), encode(envelope)))
    return backlog


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


# Literal queries, so no query is ever built from a variable. Only the readings' own
# measurements count: the collector also writes its metrics (and dead letters) there.
_COUNT_QUERY: Final = 'SELECT count("seq") FROM "card_read", "interface"'
_FIELD_KEYS_QUERY: Final = 'SHOW FIELD KEYS FROM "card_read", "interface"'


# -- what one run measured ---------------------------------------------------------------


@dataclass
class Run:
    """The figures of one consumer draining one backlog."""

    label: str
    messages: int | None
    readings: int
    elapsed_s: float | None = None
    stored: int | None = None
    """Points InfluxDB holds afterwards (None: this run stores nothing)."""
    received: int | None = None
    """Messages received (count-only subscriber)."""
    rss_peak_bytes: int | None = None
    cpu_s: float | None = None
    startup_s: float | None = None
    error: str | None = None
    available: bool = True
    samples: tuple[float, ...] = ()
    """Seconds of every repeat, when the run was repeated (``elapsed_s`` is the best)."""

    @property
    def msgs_per_s(self) -> float | None:
        """Messages per second (None if not measured or no messages)."""
        if self.messages is None or not self.elapsed_s:
            return None
        return self.messages / self.elapsed_s

    @property
    def readings_per_s(self) -> float | None:
        """Readings (points) per second."""
        if not self.elapsed_s:
            return None
        return self.readings / self.elapsed_s

    @property
    def lost(self) -> int | None:
        """Readings (or messages, for the count-only run) missing; None if not measured."""
        if not self.available:
            return None
        if self.stored is not None:
            return max(0, self.readings - self.stored)
        if self.received is not None and self.messages is not None:
            return max(0, self.messages - self.received)
        return None

    def failure(self) -> str | None:
        """Why this run counts as lost data or a crash, or None."""
        if not self.available:
            return None
        if self.error is not None:
            return f"{self.label}: {self.error}"
        if self.lost:
            return f"{self.label}: lost {self.lost:,} of {self.readings:,}"
        if self.lost is None:
            return f"{self.label}: completion was not verified"
        return None


@dataclass
class Shape:
    """All runs of one message shape, (a) or (b)."""

    key: str
    messages: int
    readings_per_message: int
    runs: dict[str, Run] = field(default_factory=dict)
    schema_note: str | None = None

    @property
    def readings(self) -> int:
        """Readings in the backlog."""
        return self.messages * self.readings_per_message


# -- MQTT helpers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """A persistent session on the broker, and how its consumer connects.

    MQTT v5 (what the collector speaks): ``clean_start=False``, a Session Expiry Interval
    and Receive Maximum. MQTT 3.1.1 (paho's default): ``clean_session=False``; the
    broker's ``max_inflight_messages`` is the window.
    """

    client_id: str
    protocol: MqttProtocol = "5"
    receive_maximum: int = 20

    def client(self, broker: Mosquitto) -> paho.Client:
        """A paho client for this session (not connected)."""
        if self.protocol == "5":
            return make_client(MqttSettings(host=broker.host, port=broker.port), self.client_id)
        return paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )

    def connect(self, client: paho.Client, broker: Mosquitto) -> None:
        """Connect ``client``, resuming the session."""
        if self.protocol == "3.1.1":
            client.connect(broker.host, broker.port)
            return
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = self.receive_maximum
        client.connect(broker.host, broker.port, clean_start=False, properties=properties)


def register_session(broker: Mosquitto, session: Session, topic_filter: str) -> None:
    """Create ``session`` on the broker with a QoS 1 subscription, and leave it offline."""
    client = session.client(broker)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    session.connect(client, broker)
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        if not subscribed.wait(10):
            raise SandboxError(f"{session.client_id}: no SUBACK from {broker.address} in 10 s")
    finally:
        client.disconnect()
        client.loop_stop()


class NetworkLoop:
    """Runs a connected client's network loop in a thread, one of paho's two ways.

    ``forever``: ``loop_forever()`` in a thread of our own, as a script's main loop would;
    paho then writes each outgoing packet (a PUBACK) straight to the socket. ``start``:
    paho's ``loop_start()`` thread (what the collector uses), where every outgoing packet
    also wakes the loop through a socketpair.
    """

    def __init__(self, client: paho.Client, style: LoopStyle) -> None:
        """Prepare to run ``client``'s loop; nothing runs until :meth:`start`."""
        self._client = client
        self._style = style
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (the client must have connected)."""
        if self._style == "start":
            self._client.loop_start()
            return
        self._thread = threading.Thread(
            target=self._client.loop_forever, name="bench-mqtt-loop", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Disconnect and wait for the loop to end.

        Raises:
            SandboxError: the loop did not end within 10 s.
        """
        self._client.disconnect()
        if self._style == "start":
            self._client.loop_stop()
            return
        if self._thread is not None:
            self._thread.join(10)
            if self._thread.is_alive():
                raise SandboxError("the MQTT loop did not end within 10 s of disconnecting")


def _quiet_heap() -> None:
    """Keep this process's own objects (backlog, lines) out of the GC's scans during a run.

    The in-process consumers share the interpreter with the benchmark; without this,
    collections that walk the benchmark's heap would be charged to them.
    """
    gc.collect()
    gc.freeze()


def publish_backlog(broker: Mosquitto, backlog: Sequence[tuple[str, bytes]]) -> float:
    """Publish ``backlog`` at QoS 1; return once the broker acknowledged all (seconds taken).

    Raises:
        SandboxError: the broker refused a message or stopped acknowledging.
    """
    client = Session("bench-publisher").client(broker)
    client.max_inflight_messages_set(100)
    state = threading.Condition()
    acked = published = 0
    refused: list[str] = []

    def on_publish(
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        reason_code: ReasonCode,
        _properties: Properties,
    ) -> None:
        nonlocal acked
        with state:
            acked += 1
            if reason_code.is_failure:
                refused.append(str(reason_code))
            state.notify_all()

    def window_open() -> bool:
        return published - acked < PUBLISH_WINDOW

    client.on_publish = on_publish
    started = time.perf_counter()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for sent, (topic, payload) in enumerate(backlog):
            with state:
                if not state.wait_for(window_open, STALL_TIMEOUT_S):
                    raise SandboxError(f"the broker stopped acknowledging after {acked:,}")
            info = client.publish(topic, payload, qos=1)
            published += 1
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise SandboxError(
                    f"publishing message {sent:,} failed: {paho.error_string(info.rc)}"
                )
        with state:
            if not state.wait_for(lambda: acked >= len(backlog), STALL_TIMEOUT_S):
                raise SandboxError(f"the broker acknowledged {acked:,} of {len(backlog):,}")
        if refused:
            raise SandboxError(f"the broker refused {len(refused):,} messages: {refused[0]}")
    finally:
        client.disconnect()
        client.loop_stop()
    return time.perf_counter() - started


def _wait_progress(progress: Callable[[], int], target: int, what: str, interval: float) -> None:
    """Wait until ``progress()`` reaches ``target``; fail if it stalls for STALL_TIMEOUT_S.

    Raises:
        TimeoutError: no progress for STALL_TIMEOUT_S; the message says how far it got.
    """
    last = progress()
    last_change = time.monotonic()
    while last < target:
        time.sleep(interval)
        now = progress()
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > STALL_TIMEOUT_S:
            raise TimeoutError(f"{what}: stuck at {last:,} of {target:,} for {STALL_TIMEOUT_S:g} s")


# -- the consumers ----------------------------------------------------------------------


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
    _quiet_heap()
    started = time.perf_counter()
    session.connect(client, broker)
    network.start()
    try:
        _wait_progress(lambda: received, expected, "count-only subscriber", 0.01)
        run.elapsed_s = done_at - started
    except TimeoutError as exc:
        run.error = str(exc)
    finally:
        network.stop()
        run.received = received


def _count_points(influx: InfluxDB, db: str) -> int:
    return sum(int(row["count"]) for row in influx.query(_COUNT_QUERY, db))


def _points_written(influx: InfluxDB, db: str) -> int:
    """Points InfluxDB accepted into ``db`` so far, from its write counters (not a count)."""
    rows = influx.query("SHOW STATS FOR 'shard'")
    return sum(int(row.get("writePointsOk", 0)) for row in rows if row.get("database") == db)


def _verify_stored(influx: InfluxDB, db: str, expected: int) -> int:
    """Count the points in ``db`` (a few times if short of ``expected``); return the count."""

    # The write counters include overwritten duplicates: only a count proves nothing is lost.
    def enough() -> int | None:
        stored = _count_points(influx, db)
        return stored if stored >= expected else None

    try:
        return wait_until(
            enough, timeout=5.0, what=f"{db} holds {expected:,} points", interval=COUNT_POLL_S
        )
    except TimeoutError:
        return _count_points(influx, db)


def _field_keys(influx: InfluxDB, db: str) -> list[str]:
    return sorted(row["fieldKey"] for row in influx.query(_FIELD_KEYS_QUERY, db))


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
            stored.append(_verify_stored(influx, target, run.readings))
        except SandboxError as exc:
            run.error = str(exc)
            return
        finally:
            _drop_quietly(influx, target)
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
    _quiet_heap()
    started = time.perf_counter()
    session.connect(client, broker)
    network.start()

    def stored() -> int:
        if bridge.error is not None:
            raise SandboxError(bridge.error)  # fail fast: auto-acked readings are gone
        return bridge.stored

    try:
        _wait_progress(stored, run.readings, "naive bridge", 0.01)
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
    run.stored = _verify_stored(influx, db, run.readings)


def collector_available() -> str | None:
    """None if ``pelangi-collector run`` can be started here, else why not."""
    try:
        program = venv_program("pelangi-collector")
    except SandboxError as exc:
        return str(exc)
    done = subprocess.run(
        [str(program), "run", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        return f"`pelangi-collector run --help` exited with {done.returncode}: {done.stderr[-300:]}"
    return None


def _proc_status_kib(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+) kB", text, flags=re.MULTILINE)
    return int(match.group(1)) if match else None


def _cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # Fields after the command name (which may contain spaces) start at state (field 3).
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def collector_settings(
    broker: Mosquitto, influx: InfluxDB, collector_id: str, db: str
) -> CollectorSettings:
    """The collector's configuration: defaults everywhere except the servers' addresses."""
    return CollectorSettings.model_validate(
        {
            "collector_id": collector_id,
            "mqtt": {"host": broker.host, "port": broker.port},
            "influxdb": {"backend": "influxdb1", "url": influx.url, "database": db},
            "log_level": "info",
        }
    )


def run_collector(
    broker: Mosquitto, influx: InfluxDB, settings: CollectorSettings, workdir: Path, run: Run
) -> None:
    """Drain the collector's session with ``pelangi-collector run``; time and verify it."""
    assert isinstance(settings.influxdb, InfluxV1Settings)  # noqa: S101 - built so above
    db = settings.influxdb.database
    config_path = workdir / f"{settings.collector_id}.yaml"
    config_path.write_text(
        yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True), sort_keys=False),
        encoding="utf-8",
    )
    program = str(venv_program("pelangi-collector"))
    setup = subprocess.run(
        [program, "setup-db", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if setup.returncode != 0:
        run.error = (
            f"setup-db exited with {setup.returncode}: {(setup.stdout + setup.stderr)[-300:]}"
        )
        return
    process = ChildProcess(
        [program, "run", "--config", config_path],
        log_path=workdir / f"{settings.collector_id}.log",
        name="pelangi-collector",
    )
    before = _points_written(influx, db)

    def alive() -> None:
        if not process.running:
            raise SandboxError(
                f"pelangi-collector {process.describe_exit()}; its log ends with:\n"
                f"{process.log_tail(15)}"
            )

    def connections() -> int:
        # The session was created by the same client id: count connections, not "has connected".
        pattern = rf"New client connected from \S+ as {re.escape(settings.client_id)} \("
        return len(re.findall(pattern, broker.log_text()))

    earlier = connections()

    def connected() -> bool:
        alive()
        return connections() > earlier

    def written() -> int:
        alive()
        return _points_written(influx, db) - before

    spawned = time.perf_counter()
    process.start()
    try:
        wait_until(connected, timeout=60, what="the collector has connected", interval=0.002)
        started = time.perf_counter()
        run.startup_s = started - spawned
        _wait_progress(written, run.readings, "pelangi-collector", STATS_POLL_S)
        run.elapsed_s = time.perf_counter() - started
        run.rss_peak_bytes = (_proc_status_kib(process.pid, "VmHWM") or 0) * 1024 or None
        run.cpu_s = _cpu_seconds(process.pid)
    except (TimeoutError, SandboxError) as exc:
        run.error = str(exc)
    finally:
        status = process.stop(timeout=30)
    if run.error is None and status != 0:
        run.error = f"exited with status {status} when stopped; log:\n{process.log_tail(15)}"
    run.stored = _verify_stored(influx, db, run.readings)


# -- one shape, end to end ---------------------------------------------------------------


def _drop_quietly(influx: InfluxDB, db: str) -> None:
    # Dropping stops its compactions, so the next run does not share the CPU with them.
    with contextlib.suppress(InfluxQueryError):
        influx.drop_database(db)


def run_shape(shape: Shape, influx: InfluxDB, workdir: Path, unavailable: str | None) -> None:
    """Start a broker, fill four sessions with the shape's backlog, run the four consumers."""
    key = shape.key
    backlog = make_backlog(shape.messages, shape.readings_per_message)
    db_naive, db_ingest, db_collector = (
        f"bench_{kind}_{key}" for kind in ("naive", "ingest", "collector")
    )
    # MQTT v5 consumers get the collector's in-flight window; 3.1.1 ones the broker's.
    window = CollectorSettings().batch.max_unacked
    sessions = {
        "count": Session(f"bench-count-{key}", "3.1.1"),
        "count5": Session(f"bench-count5-{key}", "5", window),
        "naive": Session(f"bench-naive-{key}", "3.1.1"),
    }
    runs = shape.runs
    messages, readings = shape.messages, shape.readings
    runs["count"] = Run("count-only, MQTT 3.1.1, loop_forever", messages, readings)
    runs["count5"] = Run("count-only, MQTT v5, loop_start", messages, readings)
    best = f"best of {INGEST_REPEATS}"
    runs["ingest"] = Run(f"InfluxDB ingest, 1 connection, {best}", None, readings)
    runs["ingest2"] = Run(f"InfluxDB ingest, 2 connections, {best}", None, readings)
    runs["naive"] = Run("naive bridge, MQTT 3.1.1, loop_forever", messages, readings)
    runs["collector"] = Run("pelangi-collector", messages, readings, available=unavailable is None)
    if unavailable is not None:
        runs["collector"].error = f"not available: {unavailable}"

    with Mosquitto(
        workdir / f"mosquitto-{key}", extra_conf=BROKER_CONF, persistence=False
    ) as broker:
        settings = collector_settings(broker, influx, f"bench-{key}", db_collector)
        for session in [*sessions.values(), Session(settings.client_id)]:
            register_session(broker, session, reading_filter())
        publish_backlog(broker, backlog)
        lines = [line for _, payload in backlog for line in naive_lines(payload)]
        del backlog
        try:
            drain_count_only(broker, sessions["count"], runs["count"])
            # The collector's own setup: MQTT v5, its Receive Maximum, paho's loop thread.
            drain_count_only(broker, sessions["count5"], runs["count5"], "start")
            ingest_line_protocol(influx, db_ingest, lines, runs["ingest"])
            ingest_line_protocol(influx, db_ingest, lines, runs["ingest2"], connections=2)
            del lines
            run_naive_bridge(broker, influx, sessions["naive"], db_naive, runs["naive"])
        finally:
            gc.unfreeze()
        naive_fields = _field_keys(influx, db_naive)
        _drop_quietly(influx, db_naive)
        if unavailable is None:
            run_collector(broker, influx, settings, workdir, runs["collector"])
            collector_fields = _field_keys(influx, db_collector)
            if collector_fields != naive_fields:
                shape.schema_note = (
                    f"({key}) the naive bridge wrote fields {naive_fields}, the collector "
                    f"{collector_fields}: InfluxDB did different work for the two"
                )
            _drop_quietly(influx, db_collector)


# -- the report --------------------------------------------------------------------------


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 1e6:.1f}"


def _shape_table(shape: Shape) -> Table:
    count_only = shape.runs["count"].msgs_per_s
    naive = shape.runs["naive"].msgs_per_s
    rows = []
    for run in shape.runs.values():
        if not run.available:
            rows.append((f"{run.label} (not available)", *(["—"] * 9)))
            continue
        mps = run.msgs_per_s
        lost = run.lost
        rows.append(
            (
                run.label,
                "—" if run.messages is None else count(run.messages),
                count(run.readings),
                "—" if run.elapsed_s is None else seconds(run.elapsed_s),
                "—" if mps is None else count(mps),
                "—" if run.readings_per_s is None else count(run.readings_per_s),
                ratio(mps / count_only) if mps and count_only else "—",
                ratio(mps / naive) if mps and naive else "—",
                _mb(run.rss_peak_bytes),
                "ERROR" if run.error else ("—" if lost is None else count(lost)),
            )
        )
    return Table(
        f"({shape.key}) {shape.messages:,} messages x {shape.readings_per_message} "
        f"reading{'s' if shape.readings_per_message > 1 else ''}",
        (
            "run",
            "messages",
            "readings",
            "seconds",
            "msgs/s",
            "readings/s",
            "vs count 3.1.1",
            "vs naive",
            "RSS MB",
            "lost",
        ),
        tuple(rows),
    )


def _checks(single: Shape, batch: Shape) -> tuple[Check, ...]:
    collector_a, collector_b = single.runs["collector"], batch.runs["collector"]
    measured_a = collector_a.available and collector_a.error is None
    measured_b = collector_b.available and collector_b.error is None

    def versus(run: Run, base: Run, required: float, what: str) -> Check:
        if not measured_a or not run.msgs_per_s or not base.msgs_per_s:
            return Check(what, f">= {required:.2f}x", "—", None)
        value = run.msgs_per_s / base.msgs_per_s
        return Check(what, f">= {required:.2f}x", ratio(value), value >= required)

    rps = collector_b.readings_per_s if measured_b else None
    rss = collector_b.rss_peak_bytes if measured_b else None
    every_run = [*single.runs.values(), *batch.runs.values()]
    losses = [run for run in every_run if run.failure() is not None]
    return (
        versus(
            collector_a,
            single.runs["naive"],
            TARGET_VS_NAIVE,
            "(a) collector msgs/s vs naive bridge",
        ),
        versus(
            collector_a,
            single.runs["count"],
            TARGET_VS_COUNT_ONLY,
            "(a) collector msgs/s vs count-only drain (3.1.1)",
        ),
        Check(
            "(b) collector readings/s",
            f">= {TARGET_BATCH_READINGS_PER_S:,}",
            "—" if rps is None else count(rps),
            None if rps is None else rps >= TARGET_BATCH_READINGS_PER_S,
        ),
        Check(
            "(b) collector RSS peak (VmHWM)",
            f"<= {TARGET_RSS_BYTES / 1e6:.0f} MB",
            "—" if rss is None else f"{rss / 1e6:.1f} MB",
            None if rss is None else rss <= TARGET_RSS_BYTES,
        ),
        Check(
            "zero loss, every run",
            "0 lost",
            "0 lost" if not losses else f"{len(losses)} run(s) failed",
            not losses,
        ),
    )


def _figures(shape: Shape) -> dict[str, Any]:
    return {
        "messages": shape.messages,
        "readings_per_message": shape.readings_per_message,
        "readings": shape.readings,
        "schema_mismatch": shape.schema_note,
        "runs": {
            key: {
                "label": run.label,
                "available": run.available,
                "elapsed_s": run.elapsed_s,
                "elapsed_s_samples": list(run.samples),
                "msgs_per_s": run.msgs_per_s,
                "readings_per_s": run.readings_per_s,
                "stored": run.stored,
                "received": run.received,
                "lost": run.lost,
                "rss_peak_bytes": run.rss_peak_bytes,
                "cpu_s": run.cpu_s,
                "startup_s": run.startup_s,
                "error": run.error,
            }
            for key, run in shape.runs.items()
        },
    }


def _notes(single: Shape, batch: Shape) -> list[str]:
    notes = [
        (
            "Each run drains its own persistent session, pre-filled with the same backlog while "
            "offline; the broker (Mosquitto, max_queued_messages 0, in memory) is shared."
        ),
        (
            "Timing starts when the consumer connects: for the collector, when the broker logs "
            "its connection (its interpreter start is excluded and shown below)."
        ),
        (
            "The collector is done when InfluxDB's write counters (SHOW STATS, polled every "
            f"{STATS_POLL_S * 1000:.0f} ms) reach the backlog; loss is then checked "
            "with SELECT count."
        ),
        (
            "The count-only subscribers and the naive bridge auto-ack. The 3.1.1 ones run as a "
            "plain paho script does (protocol default, loop_forever; window: the broker's "
            "max_inflight_messages 1,000): 'vs count 3.1.1' compares with that, the fastest "
            "drain. The v5 count-only row is stock paho with the collector's connection "
            f"settings (v5, Receive Maximum {CollectorSettings().batch.max_unacked:,}, "
            "loop_start, one PUBACK per message): paho 2.2 decodes v5 properties for every "
            "message and wakes its loop thread through a socketpair for every PUBACK. The "
            "collector's client (collector/mqtt_client.py) removes those per-message costs "
            "(empty-property fast path, buffered reads, one write per batch of acks), which is "
            "why it can beat that row."
        ),
        (
            "The collector runs with its default configuration (batching, caps, 2 writers) and "
            "acks each message after the write that stored it, validating every message "
            "against the contract; (b) messages are 48 InterfaceReadings (a switch poll)."
        ),
    ]
    unavailable = single.runs["collector"]
    if not unavailable.available:
        notes.append(f"pelangi-collector was {unavailable.error}")
    for shape in (single, batch):
        run = shape.runs["collector"]
        if run.startup_s is not None:
            cpu = f", {run.cpu_s:.2f} s CPU" if run.cpu_s is not None else ""
            notes.append(
                f"({shape.key}) collector: process start to connected {run.startup_s:.2f} s{cpu}"
            )
        if shape.schema_note:
            notes.append(shape.schema_note)
    ceilings = [
        f"{TARGET_BATCH_READINGS_PER_S / rate:.0%} of InfluxDB's own ingest on {label} "
        f"({count(rate)} points/s)"
        for label, key in (("one connection", "ingest"), ("two", "ingest2"))
        if (rate := batch.runs[key].readings_per_s)
    ]
    if ceilings:
        notes.append(
            f"(b) the target of {TARGET_BATCH_READINGS_PER_S:,} readings/s is "
            + " and ".join(ceilings)
            + " for these points, measured in this run."
        )
    return notes


def run(workdir: Path, *, quick: bool = False, sizes: Sizes | None = None) -> BenchResult:
    """Run the collector benchmark in ``workdir`` (servers' folders go there).

    Args:
        workdir: an empty folder; removed by the caller.
        quick: use :data:`QUICK` sizes (ignored when ``sizes`` is given).
        sizes: explicit backlog sizes (the smoke test uses tiny ones).
    """
    sizes = sizes or (QUICK if quick else FULL)
    unavailable = collector_available()
    single = Shape("a", sizes.single_messages, 1)
    batch = Shape("b", sizes.batch_messages, sizes.readings_per_batch_message)
    with InfluxDB(workdir / "influxdb") as influx:
        for shape in (single, batch):
            run_shape(shape, influx, workdir, unavailable)
    lost = tuple(
        failure
        for shape in (single, batch)
        for r in shape.runs.values()
        if (failure := r.failure()) is not None
    )
    return BenchResult(
        name=NAME,
        title="end-to-end readings/s from a pre-filled persistent session into InfluxDB",
        parameters={
            "messages_a": sizes.single_messages,
            "messages_b": sizes.batch_messages,
            "readings_per_message_b": sizes.readings_per_batch_message,
            "devices": DEVICES,
        },
        tables=(_shape_table(single), _shape_table(batch)),
        checks=_checks(single, batch),
        figures={"a": _figures(single), "b": _figures(batch), "collector_unavailable": unavailable},
        notes=tuple(_notes(single, batch)),
        lost=lost,
    )


__all__ = [
    "FULL",
    "NAME",
    "QUICK",
    "NaiveBridge",
    "Run",
    "Sizes",
    "make_backlog",
    "make_envelope",
    "naive_lines",
    "run",
]
