"""Doors at run time: sources feed observations, trackers decide, the emitter publishes.

Sources run on their own threads (one per GPIO line, one per microcontroller port, one
MQTT client for Zigbee2MQTT) and call :meth:`DoorService.observe`. The agent's main loop
calls :meth:`DoorService.tick` about once a second for re-statements and silence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Final

from edge_agent.doors.gpio import GpioDoorInput
from edge_agent.doors.lineproto import DoorLineDecoder, DoorReport
from edge_agent.doors.settings import GpioDoor, SerialDoor, ZigbeeDoor
from edge_agent.doors.state import DoorChange, DoorState, DoorTracker
from edge_agent.doors.zigbee import state_from_zigbee2mqtt
from edge_agent.errors import AgentError, FrameError
from edge_agent.serial.port import SerialPortReader
from pelangi.backoff import Backoff
from pelangi.mqtt import make_client
from pelangi.payloads import DoorReading
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import paho.mqtt.client as paho

    from edge_agent.doors.settings import DoorOptions, DoorSettings
    from edge_agent.emitter import Emitter

log = logging.getLogger(__name__)

GPIO_RETRY_MAX_S: Final = 60.0


class DoorService:
    """Every configured door: trackers, their sources, and the readings they produce."""

    def __init__(
        self,
        doors: Sequence[DoorSettings],
        options: DoorOptions,
        emitter: Emitter,
        *,
        client_id: str = "pelangi-agent-doors",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare trackers and sources (nothing starts until :meth:`start`)."""
        self._emitter = emitter
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._trackers = {
            door.id: DoorTracker(
                door.id,
                restate_s=options.restate_s,
                # A GPIO line cannot fall silent: the kernel reports every edge.
                silence_s=None if isinstance(door, GpioDoor) else options.silence_s,
            )
            for door in doors
        }
        self.counters: Counter[str] = Counter()
        self._bad_log = ThrottledLog(log, burst=3, interval_s=60.0, clock=self._monotonic)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ports = self._serial_sources([d for d in doors if isinstance(d, SerialDoor)])
        self._gpio = [d for d in doors if isinstance(d, GpioDoor)]
        zigbee = [d for d in doors if isinstance(d, ZigbeeDoor)]
        self._zigbee_topics = {door.topic: door.id for door in zigbee}
        self._zigbee: paho.Client | None = None
        if zigbee:
            if options.zigbee2mqtt is None:
                raise AgentError("Zigbee doors are configured but doors.zigbee2mqtt is not")
            self._zigbee_settings = options.zigbee2mqtt
            self._zigbee = make_client(options.zigbee2mqtt, f"{client_id}-zigbee")
            self._zigbee.on_connect = self._zigbee_connected
            self._zigbee.on_message = self._zigbee_message

    # -- observations ---------------------------------------------------------------------

    def observe(self, door: str, state: DoorState) -> None:
        """Record what a source saw; publishes a reading if the state changed."""
        with self._lock:
            change = self._trackers[door].observe(state, self._monotonic())
        if change is not None:
            self._publish_change(change)

    def tick(self) -> None:
        """Re-state quiet doors and mark silent ones unknown (call about once a second)."""
        now = self._monotonic()
        self._bad_log.flush()
        with self._lock:
            results = [(door, *tracker.tick(now)) for door, tracker in self._trackers.items()]
        for door, change, restate in results:
            if change is not None:
                self._publish_change(change)
            elif restate:
                state = self._trackers[door].state
                self._emitter.emit(
                    door,
                    [lambda seq, ts, s=state: DoorReading(seq=seq, ts=ts, state=s, change=False)],
                )

    def _publish_change(self, change: DoorChange) -> None:
        self.counters["door_changes"] += 1
        log.info("door %s: %s -> %s", change.door, change.previous, change.current)
        state = change.current
        self._emitter.emit(
            change.door,
            [lambda seq, ts: DoorReading(seq=seq, ts=ts, state=state, change=True)],
        )

    # -- sources --------------------------------------------------------------------------

    def _serial_sources(self, doors: list[SerialDoor]) -> list[SerialPortReader]:
        by_port: dict[str, list[SerialDoor]] = {}
        for door in doors:
            by_port.setdefault(door.port, []).append(door)
        return [
            SerialPortReader(
                f"doors@{port}",
                port,
                _Controller(port, group, self).on_data,
                baudrate=group[0].baudrate,
            )
            for port, group in by_port.items()
        ]

    def serial_report(
        self, port: str, names: dict[str, str], item: DoorReport | FrameError
    ) -> None:
        """Handle one decoded line of the controller on ``port``."""
        if isinstance(item, FrameError):
            self.counters["door_line_errors"] += 1
            self._bad_log.log(
                logging.WARNING, "door controller on %s: ignored bad line: %s", port, item, key=port
            )
            return
        door = names.get(item.door)
        if door is None:
            self.counters["door_unknown_ids"] += 1
            self._bad_log.log(
                logging.WARNING,
                "door controller on %s reports door %r, which is not configured (configured: %s)",
                port,
                item.door,
                ", ".join(sorted(names)),
                key=f"{port}:{item.door}",
            )
            return
        self.observe(door, item.state)

    def _gpio_loop(self, door: GpioDoor) -> None:
        backoff = Backoff(base=1.0, cap=GPIO_RETRY_MAX_S)
        source = GpioDoorInput(
            door.chip,
            door.line,
            door.closed_when,
            door.debounce_ms,
            lambda state: self.observe(door.id, state),
            pull_up=door.pull_up,
        )
        while not self._stop.is_set():
            try:
                source.run(self._stop)
            except AgentError as exc:
                delay = backoff.next_delay()
                self.counters["gpio_errors"] += 1
                log.error("door %s: %s; trying again in %.0f s", door.id, exc, delay)  # noqa: TRY400 - the message says it all
                self._stop.wait(delay)

    def _zigbee_connected(self, client: paho.Client, *_args: object) -> None:
        for topic in self._zigbee_topics:
            client.subscribe(topic, qos=1)
        log.info("listening for Zigbee2MQTT doors on %s", self._zigbee_settings.address)

    def _zigbee_message(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        door = self._zigbee_topics.get(message.topic)
        if door is None:
            return
        try:
            state = state_from_zigbee2mqtt(bytes(message.payload))
        except FrameError as exc:
            self.counters["zigbee_errors"] += 1
            self._bad_log.log(
                logging.WARNING,
                "Zigbee door %s: ignored message on %s: %s",
                door,
                message.topic,
                exc,
                key=message.topic,
            )
            return
        if state is not None:
            self.observe(door, state)

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start every source."""
        for reader in self._ports:
            reader.start()
        for door in self._gpio:
            thread = threading.Thread(
                target=self._gpio_loop, args=(door,), name=f"gpio-{door.id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if self._zigbee is not None:
            self._zigbee.connect_async(
                self._zigbee_settings.host,
                self._zigbee_settings.port,
                keepalive=self._zigbee_settings.keepalive_s,
            )
            self._zigbee.loop_start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop every source."""
        self._stop.set()
        for reader in self._ports:
            reader.stop()
        for reader in self._ports:
            reader.join(timeout)
        for thread in self._threads:
            thread.join(timeout)
        if self._zigbee is not None:
            self._zigbee.disconnect()
            self._zigbee.loop_stop()
            # paho keeps a socket pair until the client is freed; break the cycle now.
            self._zigbee.on_connect = None
            self._zigbee.on_message = None

    def states(self) -> dict[str, DoorState]:
        """The current state of every door."""
        with self._lock:
            return {door: tracker.state for door, tracker in self._trackers.items()}


class _Controller:
    """One microcontroller port: decodes its lines and maps its door names to ours."""

    def __init__(self, port: str, doors: list[SerialDoor], service: DoorService) -> None:
        self.port = port
        self.names = {door.name_on_wire: door.id for door in doors}
        self.decoder = DoorLineDecoder()
        self.service = service

    def on_data(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            self.service.serial_report(self.port, self.names, item)
