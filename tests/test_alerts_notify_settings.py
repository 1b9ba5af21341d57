"""Notification settings: defaults, recipients per site, errors that name the bad value."""

from __future__ import annotations

import pytest

from collector.alerts.model import Audience
from collector.alerts.notify.settings import NotifySettings
from pelangi.configfile import parse
from pelangi.errors import ConfigError

EXAMPLE = """
language: en
smtp:
  host: mail.kutaitimurkab.go.id
  security: tls
  username: pelangi
  password: rahasia
  from: "Pelangi <pelangi@kutaitimurkab.go.id>"
recipients:
  security: [posjaga@kutaitimurkab.go.id]
  it: [diskominfo@kutaitimurkab.go.id]
sites:
  sangatta-utara:
    it: [it-sangatta@kutaitimurkab.go.id]
webhook:
  url: http://chat.local/hooks/pelangi
  headers: {Authorization: "Bearer token-123"}
digest: {at: "06:30"}
"""


def test_the_documented_example_loads_with_its_defaults() -> None:
    settings = parse(EXAMPLE, NotifySettings)
    assert settings.smtp is not None
    assert settings.smtp.effective_port == 465
    assert settings.smtp.sender == "Pelangi <pelangi@kutaitimurkab.go.id>"
    assert settings.grouping.group_wait_s == 30
    assert settings.grouping.group_interval_s == 300
    assert settings.grouping.repeat_interval_s == 14400
    assert settings.grouping.critical_skip_wait
    assert settings.digest.at.hour == 6
    assert "token-123" not in repr(settings)
    assert "rahasia" not in repr(settings)


def test_a_sites_own_recipients_replace_only_the_audiences_it_names() -> None:
    settings = parse(EXAMPLE, NotifySettings)
    assert settings.recipients_for(Audience.IT, "sangatta-utara") == (
        "it-sangatta@kutaitimurkab.go.id",
    )
    assert settings.recipients_for(Audience.SECURITY, "sangatta-utara") == (
        "posjaga@kutaitimurkab.go.id",
    )
    assert settings.recipients_for(Audience.IT, "bukit-pelangi") == (
        "diskominfo@kutaitimurkab.go.id",
    )


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("recipients: {it: [diskominfo.kutaitimurkab.go.id]}", "recipients.it[0]: got"),
        ("smtp: {host: m, from: a@b.id, username: u}", "username and smtp.password go together"),
        ("smtp: {host: m, from: a@b.id, security: ssl}", "smtp.security: got 'ssl'"),
        ("language: jv", "language: got 'jv'"),
        ("grouping: {group_wait: 5}", "grouping.group_wait: unknown key"),
    ],
)
def test_bad_settings_name_the_key_and_the_value(yaml_text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(yaml_text, NotifySettings)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
