"""``pelangi-collector gateway add|list|remove``: the broker's password and ACL files.

The hash format is checked both ways against Mosquitto's own tools (``mosquitto_passwd``
writes a line our check accepts; the real broker accepts the logins we write), the files'
other lines are kept, two ``add`` at once lose nothing, and a real Mosquitto running on the
files ``gateway add`` produced lets each gateway publish on its own topics only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from collector.cli import app
from collector.gateways.acl import BEGIN, END, AclError, AclFile, GatewayAccess
from collector.gateways.files import editing
from collector.gateways.passwd import PasswdError, PasswdFile, hash_password, verify
from sandbox.logbook import served
from sandbox.processes import find_program
from sandbox.servers import Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.logbook import LogBook

REFERENCE_ACL = Path(__file__).resolve().parents[1] / "config" / "mosquitto" / "pelangi.acl"
SITE = "bukit-pelangi"
runner = CliRunner()


# -- the formats -------------------------------------------------------------------------


def test_a_line_mosquitto_passwd_writes_is_verified_and_ours_has_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    subprocess.run(
        [find_program("mosquitto_passwd"), "-c", "-b", str(path), "gw-1", "rahasia"], check=True
    )
    theirs = PasswdFile.parse(path.read_text(), str(path)).hash_of("gw-1")
    assert theirs is not None
    assert verify(theirs, "rahasia")
    assert not verify(theirs, "salah")
    ours = hash_password("rahasia")
    assert ours.startswith("$7$101$")
    assert verify(ours, "rahasia")
    assert ours != hash_password("rahasia")  # a fresh salt each time


def test_the_password_file_keeps_other_lines_and_names_a_bad_one() -> None:
    text = "# made by hand\nadmin:$6$old$hash\n\ngw-1:$7$101$x$y\n"
    edited = PasswdFile.parse(text, "pw").with_user("gw-1", "NEW").with_user("gw-2", "TWO")
    assert edited.text() == "# made by hand\nadmin:$6$old$hash\n\ngw-1:NEW\ngw-2:TWO\n"
    assert edited.without_user("gw-1").users() == ["admin", "gw-2"]
    with pytest.raises(PasswdError, match=r"^pw:2: expected user:hash, got 'no colon here'"):
        PasswdFile.parse("a:b\nno colon here\n", "pw")
    with pytest.raises(PasswdError, match=r"pw:2: user 'a' is defined twice"):
        PasswdFile.parse("a:b\na:c\n", "pw")
    with pytest.raises(PasswdError, match="user name 'gw 1'"):
        PasswdFile().with_user("gw 1", "x")


def test_the_acl_block_is_rewritten_and_everything_above_it_kept() -> None:
    head = REFERENCE_ACL.read_text()
    acl = AclFile.parse(head, "acl").with_gateway(GatewayAccess(SITE, "gw-b", "gw-b"))
    acl = acl.with_gateway(GatewayAccess(SITE, "gw-a", "gw-a"))
    text = acl.text()
    assert text.startswith(head.split(BEGIN)[0])
    block = text.split(BEGIN)[1]
    assert block.splitlines()[1:4] == [
        f"# gateway {SITE}/gw-a",
        "user gw-a",
        f"topic readwrite pelangi/{SITE}/gw-a/#",
    ]
    again = AclFile.parse(text, "acl")
    assert again == acl
    assert AclFile.parse(again.without_gateway(SITE, "gw-a").text(), "acl").gateways == (
        GatewayAccess(SITE, "gw-b", "gw-b"),
    )


def test_acl_lines_after_the_block_are_refused_naming_the_line() -> None:
    text = f"user pelangi-collector\n{BEGIN}\n{END}\n# a comment is fine\ntopic read #\n"
    with pytest.raises(AclError, match=r"^acl:5: 'topic read #' follows the gateway block"):
        AclFile.parse(text, "acl")
    with pytest.raises(AclError, match="acl:1: the gateway block has no end line"):
        AclFile.parse(f"{BEGIN}\n", "acl")


# -- the commands ------------------------------------------------------------------------


def files(tmp_path: Path) -> list[str]:
    acl = tmp_path / "pelangi.acl"
    if not acl.exists():
        acl.write_text(REFERENCE_ACL.read_text())
    return ["--password-file", str(tmp_path / "pelangi.passwd"), "--acl-file", str(acl)]


def add(tmp_path: Path, where: str, *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app, ["gateway", "add", where, "--broker", "127.0.0.1:1883", *extra, *files(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    snippet: dict[str, Any] = yaml.safe_load(result.stdout)
    return snippet


def test_add_prints_the_agent_part_and_list_and_remove_follow(tmp_path: Path) -> None:
    snippet = add(tmp_path, f"{SITE}/gw-lobi")
    mqtt = snippet["mqtt"]
    assert isinstance(mqtt, dict)
    assert (snippet["site"], snippet["gateway"], mqtt["username"]) == (SITE, "gw-lobi", "gw-lobi")
    assert (mqtt["host"], mqtt["port"]) == ("127.0.0.1", 1883)
    stored = PasswdFile.parse((tmp_path / "pelangi.passwd").read_text(), "pw").hash_of("gw-lobi")
    assert stored is not None
    assert verify(stored, str(mqtt["password"]))
    assert (tmp_path / "pelangi.passwd").stat().st_mode & 0o777 == 0o640

    again = runner.invoke(
        app, ["gateway", "add", f"{SITE}/gw-lobi", "--broker", "h", *files(tmp_path)]
    )
    assert again.exit_code == 1
    assert "is added already (user gw-lobi); --rotate gives it a new password" in again.stderr
    rotated = add(tmp_path, f"{SITE}/gw-lobi", "--rotate")
    assert rotated["mqtt"] != mqtt

    # The same gateway id on another site needs its own user.
    clash = runner.invoke(
        app, ["gateway", "add", "kantor-camat/gw-lobi", "--broker", "h", *files(tmp_path)]
    )
    assert clash.exit_code == 1
    assert "user gw-lobi belongs to bukit-pelangi/gw-lobi: choose another with --user" in (
        clash.stderr
    )
    add(tmp_path, "kantor-camat/gw-lobi", "--user", "camat-gw-lobi")

    listed = runner.invoke(app, ["gateway", "list", *files(tmp_path)])
    assert listed.stdout.splitlines()[1:] == [
        "bukit-pelangi  gw-lobi  gw-lobi        yes",
        "kantor-camat   gw-lobi  camat-gw-lobi  yes",
    ]
    as_json = runner.invoke(app, ["gateway", "list", "--json", *files(tmp_path)])
    assert json.loads(as_json.stdout)[1] == {
        "site": "kantor-camat",
        "gateway": "gw-lobi",
        "user": "camat-gw-lobi",
        "login": True,
    }
    removed = runner.invoke(app, ["gateway", "remove", f"{SITE}/gw-lobi", *files(tmp_path)])
    assert removed.exit_code == 0, removed.output
    assert PasswdFile.parse((tmp_path / "pelangi.passwd").read_text(), "pw").users() == [
        "camat-gw-lobi"
    ]
    gone = runner.invoke(app, ["gateway", "remove", f"{SITE}/gw-lobi", *files(tmp_path)])
    assert gone.exit_code == 1
    assert "is not in" in gone.stderr


def test_bad_arguments_and_a_broken_acl_are_said_in_one_line(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["gateway", "add", "no-slash", "--broker", "h", *files(tmp_path)])
    assert bad.exit_code == 2
    assert "'no-slash': expected SITE/GATEWAY" in bad.stderr
    (tmp_path / "pelangi.acl").write_text(f"{BEGIN}\n{END}\ntopic read #\n")
    broken = runner.invoke(
        app, ["gateway", "add", f"{SITE}/gw-1", "--broker", "h", *files(tmp_path)]
    )
    assert broken.exit_code == 1
    assert (
        f"{tmp_path / 'pelangi.acl'}:3: 'topic read #' follows the gateway block" in broken.stderr
    )
    assert not (tmp_path / "pelangi.passwd").exists()  # nothing written


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    """Writers adding gateways at once (threads: each its own lock file description, as
    separate processes have): every one ends up in both files. Without the lock, a run
    like this loses some (measured: most runs)."""
    args = files(tmp_path)
    passwd_path, acl_path = Path(args[1]), Path(args[3])
    firsts = (0, 100, 200, 300)

    def adding(first: int) -> None:
        for number in range(first, first + 25):
            with editing(passwd_path, acl_path) as both:
                name = f"gw-{number}"
                both.passwd = both.passwd.with_user(name, "$7$101$x$y")
                both.acl = both.acl.with_gateway(GatewayAccess(SITE, name, name))

    workers = [threading.Thread(target=adding, args=(first,)) for first in firsts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    expected = {f"gw-{n}" for first in firsts for n in range(first, first + 25)}
    passwd = PasswdFile.parse(passwd_path.read_text(), "pw")
    acl = AclFile.parse(acl_path.read_text(), "acl")
    assert set(passwd.users()) == expected
    assert {g.gateway for g in acl.gateways} == expected


# -- a real broker on the files ----------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path, log_book: LogBook) -> Iterator[tuple[Mosquitto, dict[str, str]]]:
    """Mosquitto on the files ``gateway add`` made for gw-a and gw-b, plus a collector user."""
    args = files(tmp_path)
    passwords = {
        name: str(add(tmp_path, f"{SITE}/{name}")["mqtt"]["password"]) for name in ("gw-a", "gw-b")
    }
    collector = "collector-secret"
    subprocess.run(
        [find_program("mosquitto_passwd"), "-b", args[1], "pelangi-collector", collector],
        check=True,
    )
    passwords["pelangi-collector"] = collector
    server = Mosquitto.with_logins(tmp_path / "mosquitto", Path(args[1]), Path(args[3]))
    for running in served(server, "mosquitto (gateway add)", log_book):
        yield running, passwords


class Client:
    """One MQTT v5 connection with a login: the CONNACK's answer, PUBACKs, messages."""

    def __init__(self, server: Mosquitto, user: str, password: str) -> None:
        self.messages: list[str] = []
        self.connack: list[str] = []
        self.acked: list[int] = []
        self.dropped = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{os.getpid()}", protocol=paho.MQTTv5
        )
        self.client.username_pw_set(user, password)
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connack.append(str(rc))
        self.client.on_message = lambda _c, _u, m: self.messages.append(m.topic)
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.append(mid)
        self.client.on_disconnect = lambda *_: self.dropped.set()
        self.client.connect(server.host, server.port)
        self.client.loop_start()
        wait_until(lambda: self.connack, timeout=10, what=f"{user}'s CONNACK")

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10)

    def publish(self, topic: str) -> None:
        """Publish at QoS 1 and wait for the broker's answer: a PUBACK, or a dropped line.

        (A refused publish gets a PUBACK "not authorized", or with the reference
        ``max_queued_messages 0`` Mosquitto 2.0.11 drops the connection instead.)
        """
        before = len(self.acked)
        self.client.publish(topic, b"{}", qos=1)
        wait_until(
            lambda: len(self.acked) > before or self.dropped.is_set(),
            timeout=10,
            what=f"the broker's answer to a publish on {topic}",
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_each_gateway_publishes_on_its_own_topics_only(
    broker: tuple[Mosquitto, dict[str, str]],
) -> None:
    server, passwords = broker
    watcher = Client(server, "pelangi-collector", passwords["pelangi-collector"])
    watcher.subscribe("pelangi/#")
    gateway = Client(server, "gw-a", passwords["gw-a"])
    clients = [watcher, gateway]
    try:
        assert gateway.connack == ["Success"]
        # gw-b's topic, then its own id on another site: each on a fresh connection, since
        # the broker may drop one after a refusal.
        for foreign in (f"pelangi/{SITE}/gw-b/status", "pelangi/kantor-camat/gw-a/status"):
            intruder = Client(server, "gw-a", passwords["gw-a"])
            clients.append(intruder)
            intruder.publish(foreign)
        gateway.publish(f"pelangi/{SITE}/gw-a/status")
        wait_until(lambda: watcher.messages, timeout=10, what="gw-a's own status delivered")
        assert watcher.messages == [f"pelangi/{SITE}/gw-a/status"]
    finally:
        for client in clients:
            client.close()
    wrong = Client(server, "gw-b", "not-its-password")
    wrong.close()
    assert wrong.connack[0] in {"Not authorized", "Bad user name or password"}


def test_a_removed_gateway_cannot_log_in_once_the_broker_reloads(
    tmp_path: Path, broker: tuple[Mosquitto, dict[str, str]]
) -> None:
    server, passwords = broker
    result = runner.invoke(app, ["gateway", "remove", f"{SITE}/gw-b", *files(tmp_path)])
    assert result.exit_code == 0, result.output
    os.kill(server.pid, signal.SIGHUP)
    wait_until(lambda: "Reloading config" in server.log_text(), timeout=10, what="the reload")
    refused = Client(server, "gw-b", passwords["gw-b"])
    refused.close()
    assert refused.connack[0] in {"Not authorized", "Bad user name or password"}
    still = Client(server, "gw-a", passwords["gw-a"])
    still.close()
    assert still.connack == ["Success"]
