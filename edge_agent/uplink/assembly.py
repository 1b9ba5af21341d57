"""Assembling the uplink's MQTT connection from the agent's settings.

:meth:`edge_agent.uplink.publisher.MqttPublisher.build` is the one place the uplink is
put together (outbox, fallback, gate, connection). The connection has the most parts of
its own, made here: the birth certificate's fields, the ``bdseq`` counter on disk, the
send gate with the collectors' presence, the remembered receipt mode and the clock hooks
(:mod:`edge_agent.timebase`), and paho's window, sized above everything the publisher
may have in flight. Tests pass a connection class of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from edge_agent.uplink.certificates import BirthDeathCounter, BirthInfo, agent_version
from edge_agent.uplink.connection import MqttConnection
from edge_agent.uplink.fallback import FALLBACK_IN_FLIGHT
from edge_agent.uplink.gate import SendGate
from edge_agent.uplink.memory import ReceiptMemory
from edge_agent.uplink.presence import Presence

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.config import AgentSettings
    from edge_agent.timebase import ClockStatus
    from edge_agent.uplink.gate import TimeSignal

PAHO_WINDOW_MARGIN: Final = 8
"""paho's window = the outbox's + room for births and fallback messages."""


def connection_for(
    settings: AgentSettings,
    connection_class: type[MqttConnection] = MqttConnection,
    *,
    time_signal: TimeSignal | None = None,
    clock_status: Callable[[], ClockStatus] | None = None,
    clock_known: Callable[[], bool] | None = None,
) -> MqttConnection:
    """The gateway's MQTT connection as ``settings`` describe it (birth, bdseq, gate)."""
    return connection_class(
        settings.mqtt,
        settings.client_id,
        birth_info=BirthInfo(
            site=settings.site,
            gateway=settings.gateway,
            agent_version=agent_version(),
            devices=tuple(settings.device_ids),
            heartbeat_s=settings.heartbeat_s,
            clock_status=clock_status,
        ),
        bdseq=BirthDeathCounter(settings.state_dir),
        gate=SendGate(
            Presence(settings.primary),
            settings.mqtt.address,
            memory=ReceiptMemory(settings.state_dir),
            time_signal=time_signal,
            clock_known=clock_known,
        ),
        max_in_flight=settings.outbox.max_in_flight_messages
        + FALLBACK_IN_FLIGHT
        + PAHO_WINDOW_MARGIN,
    )
