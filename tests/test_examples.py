"""The shipped example configurations stay valid: the docs cannot rot silently."""

from __future__ import annotations

from pathlib import Path

from collector.config import CollectorSettings
from edge_agent.config import AgentSettings
from pelangi.configfile import load

CONFIG = Path(__file__).resolve().parent.parent / "config"


def test_agent_example_is_valid() -> None:
    settings = load(CONFIG / "agent.example.yaml", AgentSettings)
    assert settings.readers[0].kind == "rdm6300"
    assert settings.client_id == "pelangi-agent-bukit-pelangi-gw-kantor-bupati"


def test_collector_example_is_valid() -> None:
    settings = load(CONFIG / "collector.example.yaml", CollectorSettings)
    assert settings.subscription == "pelangi/+/+/reading/+"
    assert settings.influxdb.backend == "influxdb1"
