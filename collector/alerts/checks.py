"""What ``pelangi-collector validate --alerts`` checks beyond loading the ``alerts:`` section.

Loading already refuses a malformed section (an unknown key, an unknown building in an
override, ``clear_below`` above ``raise_above``). What is left here needs the section as a
whole, but nothing outside it — no broker, no inventory (which devices exist is only known
from the gateways' births: the engine checks that while it runs,
:mod:`collector.alerts.references`):

- every audience an enabled rule (or the digest) alerts has someone to tell, on every site
  that has its own recipients too;
- recipients are configured only together with an SMTP server;
- the rules naming doors and switches have doors and switches to judge (``door_forced_open``
  without ``doors`` watches nothing; ``port_down`` on ``critical`` ports without
  ``switches`` neither), and a hint names a rule that exists;
- every template renders in every language (:func:`~.notify.render.check_templates`).

Each problem is one line starting with the key it is about. Pure: nothing here connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.alerts.notify.render import check_templates
from collector.alerts.rule_settings import PortDownSettings, RuleName

if TYPE_CHECKING:
    from collections.abc import Iterator

    from collector.alerts.config import AlertsSection
    from collector.alerts.model import Audience
    from collector.alerts.rule_settings import RuleSettings


def places(section: AlertsSection) -> list[tuple[str, str | None]]:
    """The (site, building) places whose rules may differ: everywhere, then each override's."""
    named = {(o.site or "", o.building) for o in section.overrides}
    return [("", None), *sorted(named - {("", None)}, key=str)]


def _rules_everywhere(section: AlertsSection, name: RuleName) -> Iterator[RuleSettings]:
    for site, building in places(section):
        yield section.rule(name, site, building)


def enabled_rules(section: AlertsSection) -> dict[Audience, list[RuleName]]:
    """Per audience, the rules enabled for it somewhere (the base or an override)."""
    used: dict[Audience, list[RuleName]] = {}
    for name in RuleName:
        for rule in _rules_everywhere(section, name):
            if rule.enabled and name not in used.setdefault(rule.audience, []):
                used[rule.audience].append(name)
    return used


def recipient_problems(section: AlertsSection) -> list[str]:
    """Audiences alerted with nobody to tell; recipients with no SMTP server to send through."""
    notify = section.notify
    used = {audience: [str(n) for n in names] for audience, names in enabled_rules(section).items()}
    if notify.digest.enabled:
        for audience in notify.digest.audiences:
            used.setdefault(audience, []).append("the daily digest")
    problems = []
    # A webhook carries every notification whatever its audience: email is then optional.
    if notify.webhook is None:
        for audience, why in used.items():
            if not notify.recipients.of(audience):
                problems.append(
                    f"alerts.notify.recipients.{audience}: nobody to tell, but "
                    f"{_listed(why)} alert {audience} (add addresses, or disable those rules)"
                )
            for site, own in notify.sites.items():
                if getattr(own, audience.value) == ():
                    problems.append(
                        f"alerts.notify.sites.{site}.{audience}: an empty list: nobody on "
                        f"{site} hears of {_listed(why)} (leave the key out to use the default)"
                    )
    addresses = [*notify.recipients.security, *notify.recipients.it]
    for own in notify.sites.values():
        addresses += [*(own.security or ()), *(own.it or ())]
    if addresses and notify.smtp is None:
        problems.append(
            "alerts.notify.smtp: recipients are configured but no SMTP server to send "
            "through (host, security, from)"
        )
    return problems


def rule_problems(section: AlertsSection) -> list[str]:
    """Rules that watch nothing as configured, and hints for rules that do not exist."""
    problems = []
    forced = any(r.enabled for r in _rules_everywhere(section, RuleName.DOOR_FORCED_OPEN))
    if forced and not section.doors:
        problems.append(
            "alerts.doors: door_forced_open is enabled but no door lists its readers: "
            "it judges no door (add doors, or disable the rule)"
        )
    critical_only = any(
        r.enabled and isinstance(r, PortDownSettings) and r.ports == "critical"
        for r in _rules_everywhere(section, RuleName.PORT_DOWN)
    )
    if critical_only and not any(s.critical_ports for s in section.switches):
        problems.append(
            "alerts.switches: port_down watches critical ports only, but no switch marks any "
            "(list critical_ports, or set rules.port_down.ports: all)"
        )
    for index, guard in enumerate(section.doors):
        if guard.door in guard.readers:
            problems.append(
                f"alerts.doors[{index}].readers: {guard.door!r} is the door itself, not a reader"
            )
    known = {name.value for name in RuleName}
    problems += [
        f"alerts.notify.hints.{rule}: no such rule (known: {', '.join(sorted(known))})"
        for rule in section.notify.hints
        if rule not in known
    ]
    return problems


def template_problems() -> list[str]:
    """Every template's problems in every language, keyed ``alerts templates``."""
    return [f"alerts templates: {problem}" for problem in check_templates()]


def offline_problems(section: AlertsSection) -> list[str]:
    """Everything :mod:`this module <collector.alerts.checks>` checks; empty: all is well."""
    return [*recipient_problems(section), *rule_problems(section), *template_problems()]


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:4])
    return shown if len(names) <= 4 else f"{shown} and {len(names) - 4} more"


__all__ = [
    "enabled_rules",
    "offline_problems",
    "places",
    "recipient_problems",
    "rule_problems",
    "template_problems",
]
