"""Load for fault tests: a publisher thread sending numbered card reads at QoS 1, paced.

Every message is one card read with a unique ``seq`` (also its card number) and a unique
timestamp, so ``SELECT count`` in InfluxDB proves that every message was stored once.
Publishing is QoS 1 and waits for the broker's PUBACKs (a window of 100 in flight), so
:attr:`Load.acked` counts messages the broker took responsibility for.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Final, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from pelangi.card import CardId
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope, encode
from sandbox.processes import SandboxError

if TYPE_CHECKING:
    from types import TracebackType

    from sandbox.servers import Mosquitto

_WINDOW: Final = 100


def card_message(seq: int, *, site: str, gateway: str, device: str, ts: int) -> Envelope:
    """One card read whose card number is ``seq``."""
    uid = f"{seq & 0xFFFF_FFFF:08X}"
    card = CardId(raw=f"01{uid}", uid=uid, bits=32)
    reading = CardRead(seq=seq, ts=ts, card=card)
    return Envelope(
        v=SCHEMA_VERSION, site=site, gateway=gateway, device=device, readings=(reading,)
    )


class Load:
    """Publishes ``messages`` card reads at about ``rate_per_s`` from a thread."""

    def __init__(  # noqa: PLR0913 - keyword-only description of the load
        self,
        broker: Mosquitto,
        *,
        messages: int,
        rate_per_s: float,
        site: str = "load-site",
        gateway: str = "gw-load",
        devices: int = 10,
        ts_step_ns: int = 1_000_000,
        poison: dict[int, bytes] | None = None,
    ) -> None:
        """Describe the load; nothing is sent until :meth:`start`.

        Args:
            broker: where to publish.
            messages: how many.
            rate_per_s: pace (messages per second).
            site: the site of every message.
            gateway: the gateway of every message.
            devices: devices take turns (``dev-0`` ...).
            ts_step_ns: timestamp step between messages (1 ms: also distinct for
                servers that keep milliseconds only).
            poison: message number -> raw payload sent instead of that message.
        """
        self.broker = broker
        self.messages = messages
        self.rate_per_s = rate_per_s
        self.site, self.gateway, self.devices = site, gateway, devices
        self.ts_base = time.time_ns() - 600 * 10**9
        self.ts_step_ns = ts_step_ns
        self.poison = poison or {}
        self.acked = 0
        self.error: str | None = None
        self._cond = threading.Condition()
        self._sent = 0
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self._client.max_inflight_messages_set(_WINDOW)
        self._client.on_publish = self._on_publish
        self._thread = threading.Thread(target=self._main, name="sandbox-load", daemon=True)

    def topic(self, n: int) -> str:
        """The topic of message ``n``."""
        return f"pelangi/{self.site}/{self.gateway}/reading/dev-{n % self.devices}"

    def payload(self, n: int) -> bytes:
        """The payload of message ``n`` (a poison one if configured)."""
        if n in self.poison:
            return self.poison[n]
        envelope = card_message(
            n,
            site=self.site,
            gateway=self.gateway,
            device=f"dev-{n % self.devices}",
            ts=self.ts_base + n * self.ts_step_ns,
        )
        return encode(envelope)

    def start(self) -> Self:
        """Connect and start publishing."""
        self._client.connect(self.broker.host, self.broker.port)
        self._client.loop_start()
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        """Whether every message was published and acknowledged by the broker."""
        with self._cond:
            return self.acked >= self.messages

    def wait(self, timeout: float) -> None:
        """Wait until the broker acknowledged every message.

        Raises:
            SandboxError: it did not within ``timeout`` s, or publishing failed.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self.acked >= self.messages or self.error, timeout):
                raise SandboxError(f"load: {self.acked} of {self.messages} acknowledged")
        if self.error:
            raise SandboxError(f"load: {self.error}")

    def close(self) -> None:
        """Stop publishing and disconnect."""
        with self._cond:
            self._sent = self.messages  # ends the loop
            self._cond.notify_all()
        self._thread.join()
        self._client.disconnect()
        self._client.loop_stop()

    def _on_publish(self, *_args: object) -> None:
        with self._cond:
            self.acked += 1
            self._cond.notify_all()

    def _main(self) -> None:
        started = time.monotonic()
        n = 0
        while True:
            with self._cond:
                if self._sent >= self.messages:
                    return
                self._cond.wait_for(lambda: self._sent - self.acked < _WINDOW, 10)
                n = self._sent
                self._sent += 1
            info = self._client.publish(self.topic(n), self.payload(n), qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                with self._cond:
                    self.error = f"publish {n} failed: {paho.error_string(info.rc)}"
                    self._cond.notify_all()
                return
            ahead = (n + 1) / self.rate_per_s - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)  # pacing the load, not waiting for a condition

    def __enter__(self) -> Self:
        """Start publishing."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop publishing."""
        self.close()


__all__ = ["Load", "card_message"]
