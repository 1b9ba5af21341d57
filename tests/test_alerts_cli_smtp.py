"""``alerts test --to`` against a real SMTP server (aiosmtpd), and ``validate --alerts``.

The test message goes through the configured server as the engine's mail would: plain,
STARTTLS with login; the command prints every line the server answered, and a refused
recipient or a server that is down ends it with status 1 and the server's reply (or one
line saying why there was none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
import pytest

from collector.alerts.notify import render
from collector.alerts.rule_settings import RuleName
from collector.state import StateSettings
from sandbox.alerts_cli import configured
from sandbox.registry_cli import sh

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sandbox.servers import Certificate, Smtp

pytestmark = pytest.mark.servers

USER = "pelangi"
PASSWORD = "rahasia-123"  # noqa: S105 - the test server's own
SENDER = "Pelangi <pelangi@kutaitimurkab.go.id>"


def smtp_section(server: Smtp, ca: Certificate | None = None) -> dict[str, Any]:
    section: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "from": SENDER,
        "timeout_s": 5,
    }
    if ca is not None:
        section["ca_file"] = str(ca.cert_path)
    if server.user is not None:
        section |= {"username": server.user, "password": server.password}
    return section


def config_for(folder: Path, smtp: dict[str, Any], **notify: Any) -> Path:
    state = StateSettings(url=f"sqlite:///{folder / 'state.db'}")
    return configured(folder, state, {"notify": {"smtp": smtp, **notify}})


def test_plain_smtp_test_message_prints_every_reply_line(
    tmp_path: Path, smtp_server: Callable[..., Smtp]
) -> None:
    server = smtp_server()
    config = config_for(tmp_path, smtp_section(server))

    sent = sh(config, "alerts test --to posjaga@pelangi.test")

    assert sent.exit_code == 0, sent.output
    lines = sent.stdout.splitlines()
    assert lines[0] == f"talking to smtp://{server.host}:{server.port} (none):"
    steps = [line.split(":")[0].strip() for line in lines[1:-1]]
    assert steps[0] == "connect"
    assert steps.count("EHLO") > 1  # the reply's every line, not only its first
    assert steps[-4:] == ["MAIL FROM", "RCPT TO", "DATA", "QUIT"]
    assert any(line.startswith("  DATA: 250 ") for line in lines)
    assert lines[-1] == "accepted: the test message to posjaga@pelangi.test is on its way"
    [mail] = server.wait_for_messages(1)
    assert mail["X-Envelope-To"] == "posjaga@pelangi.test"
    assert mail["Subject"] == "Pesan uji Pelangi"


def test_starttls_with_login_in_english(
    tmp_path: Path, smtp_server: Callable[..., Smtp], smtp_certificate: Certificate
) -> None:
    server = smtp_server(security="starttls", user=USER, password=PASSWORD)
    config = config_for(tmp_path, smtp_section(server, smtp_certificate))

    sent = sh(config, "alerts test --to it@pelangi.test --language en")

    assert sent.exit_code == 0, sent.output
    assert "  STARTTLS: 220 " in sent.stdout
    assert "  AUTH: 235 " in sent.stdout
    assert PASSWORD not in sent.stdout
    [mail] = server.wait_for_messages(1)
    assert mail["X-Auth-User"] == USER
    assert mail["Subject"] == "Pelangi test message"


def test_a_refused_recipient_is_status_1_with_the_550_reply(
    tmp_path: Path, smtp_server: Callable[..., Smtp]
) -> None:
    server = smtp_server(refuse=["hilang@pelangi.test"])
    config = config_for(tmp_path, smtp_section(server))

    refused = sh(config, "alerts test --to hilang@pelangi.test")

    assert refused.exit_code == 1, refused.output
    [rcpt] = [line for line in refused.stdout.splitlines() if "RCPT TO" in line]
    assert rcpt.startswith("  RCPT TO:<hilang@pelangi.test>: 550 ")
    assert refused.stderr.startswith(
        "pelangi-collector: the test message to hilang@pelangi.test was not accepted: "
        "RCPT TO:<hilang@pelangi.test>: 550 "
    )
    assert "Recipient address rejected" in refused.stderr
    assert server.messages() == []


def test_a_server_that_is_down_is_one_line_and_status_1(
    tmp_path: Path, smtp_server: Callable[..., Smtp]
) -> None:
    server = smtp_server()
    server.stop()
    config = config_for(tmp_path, smtp_section(server))

    down = sh(config, "alerts test --to posjaga@pelangi.test")

    assert down.exit_code == 1, down.output
    assert down.stdout == ""
    assert down.stderr == (
        f"pelangi-collector: smtp://{server.host}:{server.port}: "
        "connect: no answer (connection refused)\n"
    )


def test_no_smtp_server_or_a_bad_language_is_status_2(tmp_path: Path) -> None:
    config = configured(tmp_path, StateSettings(url=f"sqlite:///{tmp_path / 'state.db'}"))
    missing = sh(config, "alerts test --to a@pelangi.test")
    assert missing.exit_code == 2
    assert missing.stderr.endswith("alerts.notify.smtp: no SMTP server is configured\n")
    smtp = {"host": "127.0.0.1", "port": 2525, "security": "none", "from": SENDER}
    wrong = sh(config_for(tmp_path, smtp), "alerts test --to a@pelangi.test --language jv")
    assert wrong.exit_code == 2
    assert wrong.stderr == "pelangi-collector: --language: expected id or en, got 'jv'\n"


# -- validate --alerts -------------------------------------------------------------------

SMTP = {"host": "mail.pelangi.test", "security": "starttls", "from": SENDER}
RECIPIENTS = {"security": ["posjaga@pelangi.test"], "it": ["it@pelangi.test"]}
WATCHED = {
    "doors": [{"door": "gw-1/pintu-utama", "readers": ["gw-1/rfid-lobby"]}],
    "switches": [{"switch": "gw-1/sw-core", "critical_ports": ["Gi0/1"]}],
}


def validate(folder: Path, alerts: dict[str, Any]) -> Any:
    config = configured(folder, StateSettings(url=f"sqlite:///{folder / 'state.db'}"), alerts)
    return sh(config, "validate --alerts")


def test_validate_alerts_passes_a_complete_section(tmp_path: Path) -> None:
    checked = validate(tmp_path, {**WATCHED, "notify": {"smtp": SMTP, "recipients": RECIPIENTS}})
    assert checked.exit_code == 0, checked.output
    [alerts_ok] = [line for line in checked.stdout.splitlines() if line.startswith("alerts OK")]
    assert "security: 6 rule(s) to 1 recipient(s)" in alerts_ok
    assert "templates render in id and en" in alerts_ok


def test_validate_alerts_names_each_recipient_and_rule_problem_with_its_key(
    tmp_path: Path,
) -> None:
    checked = validate(
        tmp_path,
        {
            "rules": {"port_down": {"ports": "critical"}},
            "notify": {
                "recipients": {"it": ["it@pelangi.test"]},
                "sites": {"sangatta-utara": {"it": []}},
                "hints": {"port_dwn": "Periksa kabel."},
            },
        },
    )
    assert checked.exit_code == 2, checked.output
    problems = checked.stderr.splitlines()
    assert problems[0].endswith("collector.yaml: the alerts section has problems:")
    keys = [line.split(":")[0].strip() for line in problems[1:]]
    assert keys == [
        "alerts.notify.recipients.security",
        "alerts.notify.sites.sangatta-utara.it",
        "alerts.notify.smtp",
        "alerts.doors",
        "alerts.switches",
        "alerts.notify.hints.port_dwn",
    ]
    assert "door_held_open" in problems[1]


def test_disabled_rules_need_no_recipients_and_a_webhook_carries_every_audience(
    tmp_path: Path,
) -> None:
    off = {"enabled": False}
    security = [name.value for name in RuleName if name.startswith(("door_", "card_"))]
    security_off = dict.fromkeys(security, off)
    alerts = {
        **WATCHED,
        "rules": security_off,
        "notify": {
            "smtp": SMTP,
            "recipients": {"it": ["it@pelangi.test"]},
            "digest": {"audiences": ["it"]},
        },
    }
    assert validate(tmp_path, alerts).exit_code == 0
    # An override turning a security rule back on somewhere needs recipients again.
    alerts["overrides"] = [{"site": "bukit-pelangi", "rules": {"card_unknown": {"enabled": True}}}]
    again = validate(tmp_path, alerts)
    assert again.exit_code == 2
    assert "alerts.notify.recipients.security: nobody to tell, but card_unknown" in again.stderr
    hooked = {**WATCHED, "notify": {"webhook": {"url": "http://127.0.0.1:9/hook"}}}
    assert validate(tmp_path, hooked).exit_code == 0


def test_validate_alerts_catches_a_broken_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A template that names a value nobody gives it, as a misspelt edit would.
    original = render._environment

    def broken() -> jinja2.Environment:
        environment = original()
        edited = jinja2.DictLoader({"test.txt.j2": "Pesan uji {{ penerima }}\n"})
        environment.loader = jinja2.ChoiceLoader([edited, environment.loader or edited])
        return environment

    monkeypatch.setattr(render, "_environment", broken)
    checked = validate(tmp_path, {**WATCHED, "notify": {"smtp": SMTP, "recipients": RECIPIENTS}})
    assert checked.exit_code == 2, checked.output
    problems = [line for line in checked.stderr.splitlines() if "templates" in line]
    assert [p.split("]")[0] for p in problems] == [
        "  alerts templates: [id",
        "  alerts templates: [en",
    ]
    assert all("test.txt.j2" in p and "penerima" in p for p in problems)
