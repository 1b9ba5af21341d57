"""The sandbox harness itself: servers start, stop, crash and come back as the tests assume."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
import serial

from sandbox.card_frames import card_printed, card_uid, hold_card, rdm6300_frame
from sandbox.deployment import faketime_env
from sandbox.processes import SandboxError, ServerError, find_program
from sandbox.servers import InfluxDB, InfluxQueryError, Mosquitto, free_port
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sandbox.servers import SerialPty


servers = pytest.mark.servers


def _subscribe_one(broker: Mosquitto, topic: str) -> str:
    """Receive one message on ``topic`` (a retained one arrives at once) with mosquitto_sub."""
    argv = [find_program("mosquitto_sub"), "-h", broker.host, "-p", str(broker.port)]
    argv += ["-t", topic, "-C", "1", "-W", "5"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
    return result.stdout.strip()


# -- free ports and waiting ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tcp", "udp"])
def test_free_port_can_be_bound(kind: str) -> None:
    port = free_port("tcp" if kind == "tcp" else "udp")
    sock_type = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_until_returns_the_truthy_value() -> None:
    attempts = iter([None, 0, "", "found"])
    assert wait_until(lambda: next(attempts), timeout=5, what="found", interval=0) == "found"


def test_wait_until_names_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match="the moon is blue"):
        wait_until(lambda: False, timeout=0.05, what="the moon is blue")


def test_wait_until_ignores_only_the_exceptions_it_is_told_to() -> None:
    def refused() -> bool:
        raise ConnectionRefusedError

    with pytest.raises(TimeoutError, match="ConnectionRefusedError"):
        wait_until(refused, timeout=0.05, what="accepted", ignore=(ConnectionRefusedError,))
    with pytest.raises(ConnectionRefusedError):
        wait_until(refused, timeout=5, what="accepted")


# -- RDM6300 frames --------------------------------------------------------------------------


def test_rdm6300_frames_match_the_datasheet_examples() -> None:
    assert rdm6300_frame("62E3086CED") == b"\x0262E3086CED08\x03"
    assert rdm6300_frame("62E3086CED", lower=True) == b"\x0262e3086ced08\x03"
    assert rdm6300_frame("62E3086CED", bad_checksum=True) == b"\x0262E3086CEDF7\x03"
    assert card_uid("01001293D8") == "001293D8"
    assert card_printed("01001293D8") == "0001217496"


def test_rdm6300_frame_refuses_wrong_lengths() -> None:
    with pytest.raises(ValueError, match="10 hex data characters"):
        rdm6300_frame("0100")


# -- Mosquitto -------------------------------------------------------------------------------


@servers
def test_mosquitto_restarts_on_the_same_port_and_keeps_retained_messages(
    mosquitto: Mosquitto,
) -> None:
    port, first_pid = mosquitto.port, mosquitto.pid
    mosquitto.publish("sandbox/retained", "kept", retain=True)

    mosquitto.restart()  # a clean stop saves the persistence file

    assert (mosquitto.port, mosquitto.running) == (port, True)
    assert mosquitto.pid != first_pid
    assert _subscribe_one(mosquitto, "sandbox/retained") == "kept"


@servers
def test_mosquitto_kill_and_start_again(mosquitto: Mosquitto) -> None:
    status = mosquitto.kill()

    assert status == -9
    assert not mosquitto.running
    with pytest.raises(OSError, match="refused"):
        socket.create_connection((mosquitto.host, mosquitto.port), timeout=1).close()

    mosquitto.start()
    mosquitto.publish("sandbox/after-crash", "hello", retain=True)
    assert _subscribe_one(mosquitto, "sandbox/after-crash") == "hello"


@servers
def test_mosquitto_log_shows_clients_and_subscriptions(mosquitto: Mosquitto) -> None:
    argv = [find_program("mosquitto_sub"), "-h", mosquitto.host, "-p", str(mosquitto.port)]
    argv += ["-V", "mqttv5", "-i", "probe-1", "-t", "pelangi/+/+/reading/+", "-W", "1"]
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as sub:
        try:
            wait_until(
                lambda: mosquitto.has_subscribed("probe-1", "pelangi/+/+/reading/+"),
                timeout=5,
                what="probe-1 has subscribed",
            )
        finally:
            sub.terminate()
    assert mosquitto.has_connected("probe-1")
    assert not mosquitto.has_connected("probe-2")


@servers
def test_mosquitto_start_fails_fast_with_the_log_when_the_port_is_taken(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    second = Mosquitto(tmp_path / "second", port=mosquitto.port)
    started = time.monotonic()
    with pytest.raises(ServerError, match="Address already in use"):
        second.start()
    assert time.monotonic() - started < 5
    assert not second.running


@servers
def test_mosquitto_reports_a_bad_configuration(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, extra_conf="no_such_option 1")
    with pytest.raises(ServerError, match="no_such_option"):
        broker.start()


# -- InfluxDB --------------------------------------------------------------------------------


@servers
def test_influx_write_and_query_round_trip(influxdb: InfluxDB, influx_db: str) -> None:
    influxdb.write(
        'card_read,site=s1,device=d1 uid="001293D8",seq=1i 1000000000\n'
        'card_read,site=s1,device=d2 uid="62E3086C",seq=2i 2000000000\n',
        db=influx_db,
    )

    rows = influxdb.query("SELECT * FROM card_read", db=influx_db)
    assert rows == [
        {"time": 1000000000, "device": "d1", "site": "s1", "uid": "001293D8", "seq": 1},
        {"time": 2000000000, "device": "d2", "site": "s1", "uid": "62E3086C", "seq": 2},
    ]
    grouped = influxdb.query("SELECT uid FROM card_read GROUP BY device", db=influx_db)
    assert [(row["device"], row["uid"]) for row in grouped] == [
        ("d1", "001293D8"),
        ("d2", "62E3086C"),
    ]
    assert {"name": influx_db} in influxdb.query("SHOW DATABASES")


@servers
def test_influx_errors_name_the_problem(influxdb: InfluxDB, influx_db: str) -> None:
    with pytest.raises(InfluxQueryError, match="database not found"):
        influxdb.query("SELECT * FROM card_read", db="no_such_database")
    with pytest.raises(InfluxQueryError, match="database not found"):
        influxdb.write("m v=1i", db="no_such_database")
    with pytest.raises(InfluxQueryError, match="unable to parse"):
        influxdb.write("not line protocol", db=influx_db)


@servers
def test_influx_survives_a_kill_and_restarts_on_the_same_port(tmp_path: Path) -> None:
    with InfluxDB(tmp_path) as server:
        port = server.port
        server.create_database("crash")
        server.write("m v=1i 1000000000", db="crash")

        server.kill()  # the WAL, not a clean shutdown, must keep the point
        server.start()

        assert server.port == port
        assert server.query("SELECT v FROM m", db="crash") == [{"time": 1000000000, "v": 1}]
    assert not server.running


# -- serial ptys -----------------------------------------------------------------------------


@servers
def test_pty_passes_every_byte_value(serial_pty: SerialPty) -> None:
    data = bytes(range(256)) * 4
    with serial.Serial(str(serial_pty.device), 9600, timeout=2) as port:
        assert serial_pty.is_open_by(os.getpid())
        serial_pty.write(data)
        assert port.read(len(data)) == data


@servers
def test_pty_unplug_and_plug_back(make_pty: Callable[[str], SerialPty]) -> None:
    pty = make_pty("ttyUNPLUG")
    frame = rdm6300_frame("01001293D8")
    with serial.Serial(str(pty.device), 9600, timeout=2) as port:
        pty.write(frame)
        assert port.read(len(frame)) == frame

        pty.stop()

        assert not pty.device.exists()
        assert not pty.is_open_by(os.getpid())
        # What a reading process sees when the reader is unplugged under it.
        with pytest.raises(serial.SerialException):
            port.read(1)
        with pytest.raises(SandboxError, match="not running"):
            pty.write(frame)

    pty.start()

    assert pty.device.exists()
    with serial.Serial(str(pty.device), 9600, timeout=2) as port:
        pty.write(frame)
        assert port.read(len(frame)) == frame


@servers
def test_pty_survives_a_kill(make_pty: Callable[[str], SerialPty]) -> None:
    pty = make_pty("ttyKILL")
    pty.kill()
    assert not pty.device.is_symlink()  # socat cannot clean up after SIGKILL; we do
    pty.start()
    with serial.Serial(str(pty.device), 9600, timeout=2) as port:
        hold_card(pty.write, b"x", seconds=0.05, every=0.01)
        assert port.read(5) == b"xxxxx"


@servers
def test_several_ptys_side_by_side(make_pty: Callable[[str], SerialPty]) -> None:
    one, two = make_pty("ttyONE"), make_pty("ttyTWO")
    with (
        serial.Serial(str(one.device), 9600, timeout=2) as port_one,
        serial.Serial(str(two.device), 9600, timeout=2) as port_two,
    ):
        one.write(b"one")
        two.write(b"two")
        assert (port_one.read(3), port_two.read(3)) == (b"one", b"two")
        assert one.log_path != two.log_path


def test_faketime_sets_the_wall_clock_back_a_year_and_leaves_monotonic_alone() -> None:
    env = os.environ | faketime_env("-365d")
    script = "import time; print(time.time(), time.monotonic())"
    wall_before, mono_before = time.time(), time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    mono_after = time.monotonic()
    wall, mono = (float(x) for x in result.stdout.split())
    assert abs((wall_before - wall) - 365 * 86_400) < 60
    assert mono_before <= mono <= mono_after
