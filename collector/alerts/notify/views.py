"""What the templates show of an alert: flat values, already in words and in WITA."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from collector.alerts.model import Alert, Phase
from collector.alerts.notify.formats import wita
from collector.alerts.notify.phrases import GENERIC_HINT, PHRASES, RULES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collector.alerts.notify.settings import Language

# Labels shown in the "where" lines, not again among the extra labels.
_PLACE_LABELS: Final = frozenset({"building", "hint"})


def rule_title(rule: str, language: Language) -> str:
    """The rule's title in ``language`` (its name when the rule has none)."""
    known = RULES.get(rule)
    return known[language][0] if known else rule


def hint_for(alert: Alert, language: Language, hints: Mapping[str, str]) -> str:
    """What to check first: the alert's ``hint`` label, the configured hint, the built-in one."""
    if alert.labels.get("hint"):
        return alert.labels["hint"]
    if alert.key.rule in hints:
        return hints[alert.key.rule]
    known = RULES.get(alert.key.rule)
    return known[language][1] if known else GENERIC_HINT[language]


def alert_view(alert: Alert, language: Language, hints: Mapping[str, str]) -> dict[str, Any]:
    """What the templates show of one alert (see the module docstring)."""
    words = PHRASES[language]
    key = alert.key
    places = [
        ("site", key.site),
        ("building", alert.labels.get("building", "")),
        ("gateway", key.gateway),
        ("device", key.device),
        ("item", key.item),
    ]
    where = [(words[name], value) for name, value in places if value]
    return {
        "rule": key.rule,
        "title": rule_title(key.rule, language),
        "severity": alert.severity.value,
        "severity_label": words[f"severity_{alert.severity.value}"],
        "resolved": alert.phase is Phase.RESOLVED,
        "where": where,
        "where_line": " / ".join(value for _, value in where),
        "since": wita(alert.since, language),
        "fired_at": wita(alert.fired_at, language),
        "resolved_at": wita(alert.resolved_at, language),
        "value": alert.value or "-",
        "hint": hint_for(alert, language, hints),
        "labels": sorted((k, v) for k, v in alert.labels.items() if k not in _PLACE_LABELS),
    }
