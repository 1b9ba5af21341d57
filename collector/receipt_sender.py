"""Receipts to the gateways after each stored write, withheld for a while after a refusal.

The subscriber (:mod:`collector.subscriber`) hands every stored write's confirmations
here, right before it acks the write's messages; :func:`collector.confirmations.receipts`
turns them into messages, published at QoS 1 (queued by paho while the connection is
down). When the broker refuses a message the collector published, receipts are withheld
for :data:`RECEIPT_PAUSE_S`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from collector.confirmations import receipts

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from collector.config import CollectorSettings
    from collector.confirmations import Confirm
    from collector.metrics import Metrics
    from pelangi.throttle import ThrottledLog

RECEIPT_PAUSE_S: Final = 60.0
"""How long receipts are withheld after the broker refused one of our messages.

Mosquitto answers a PUBLISH its ACL denies with reason 135 *and drops the connection*
(which fires our Will): a collector whose receipts the ACL refuses (an ACL from before
receipts) would lose its connection after every write, and every agent would see it
offline. Withholding receipts keeps it connected and storing; agents that wait for
receipts send their readings again meanwhile (harmless: writes are idempotent)."""


class ReceiptSender:
    """Publishes the receipts of stored writes, unless the broker refused one lately."""

    def __init__(  # noqa: PLR0913 - collaborators, named at the one call site
        self,
        client: paho.Client,
        settings: CollectorSettings,
        metrics: Metrics,
        *,
        qos: int,
        clock: Callable[[], float],
        wall_clock_ns: Callable[[], int],
        refusal_log: ThrottledLog,
    ) -> None:
        """Publish on ``client`` at ``qos``; ``refusal_log`` says that the broker refused."""
        self._client = client
        self._settings = settings
        self._metrics = metrics
        self._qos = qos
        self._clock = clock
        self._wall_clock_ns = wall_clock_ns
        self._refusal_log = refusal_log
        self._receipts_from = 0.0

    def send(self, confirms: Sequence[Confirm]) -> None:
        """Publish the receipts of one stored write (on a writer thread)."""
        if self._clock() < self._receipts_from:
            confirms = ()  # withheld: see RECEIPT_PAUSE_S
        for topic, payload in receipts(
            confirms, self._settings.collector_id, self._wall_clock_ns()
        ):
            # Queued by paho if the connection is down, and sent on the next one.
            self._client.publish(topic, payload, qos=self._qos, retain=False)
        if confirms:
            self._metrics.readings_confirmed(sum(len(confirm.seqs) for confirm in confirms))

    def refused(self, reason_code: ReasonCode) -> None:
        """The broker refused a message we published: withhold receipts for a while."""
        self._receipts_from = self._clock() + RECEIPT_PAUSE_S
        self._refusal_log.log(
            logging.ERROR,
            "mqtt %s refused a message we published (%s); receipts are withheld for "
            "%.0f s (gateways send their readings again meanwhile): check that the "
            "broker's ACL lets user %s write pelangi/+/+/stored and pelangi-host/#",
            self._settings.mqtt.address,
            reason_code,
            RECEIPT_PAUSE_S,
            self._settings.mqtt.username or "(anonymous)",
        )
