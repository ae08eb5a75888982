"""The real daemon process under link faults: SIGTERM during a hung broker, a duplicate device
id, and connection errors that must be logged with their reason."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fixtures.broker import Recorder
from fixtures.service import copy_frames, write_config

from devtools.localbroker import LocalBroker
from edge.config import MqttConfig
from edge.link.publisher import Publisher

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")
EX_CONFIG = 78


@pytest.fixture
def replay_config(datasets: Path, image_model: Path, tmp_path: Path):
    """A daemon config: real photos replayed in a loop, the image model, a fixed box."""
    frames = copy_frames(
        sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[:8], tmp_path / "f"
    )

    def make(broker: LocalBroker, device: str, name: str = "d") -> Path:
        return write_config(
            tmp_path / f"{name}.toml",
            {
                "camera": {"backend": "replay", "path": str(frames), "fps": 10.0, "loop": True},
                "model": {"path": str(image_model), "num_threads": 1},
                "mqtt": {"host": broker.host, "port": broker.port, "device_id": device},
                "stats": {"interval": 1.0},
            },
        )

    return make


def start(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(GESTURE_EDGE), "run", "--config", str(config)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_sigterm_during_a_hung_broker_exits_within_a_bound_and_offline_follows(
    own_broker, replay_config, tmp_path
):
    device = f"hang-{uuid.uuid4().hex[:6]}"
    rec = Recorder(own_broker, f"gesturepilot/{device}/status")
    log = tmp_path / "daemon.log"
    daemon = start(replay_config(own_broker, device), log)
    try:
        rec.wait_for(lambda m: m.payload == "online", 30)
        time.sleep(0.5)
        own_broker.pause()
        deadline = time.monotonic() + 5
        while "MQTT link unconfirmed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        sent = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(5) == 0, log.read_text()
        took = time.monotonic() - sent
        own_broker.resume()
        offline = rec.wait_for(lambda m: m.payload == "offline", 10)
    finally:
        own_broker.resume()
        stop(daemon)
        rec.close()
    text = log.read_text()
    print(f"SIGTERM during a hang: exit after {took:.2f} s, offline {offline.at - sent:.2f} s")
    assert took <= 2.0, text
    assert "MQTT link unconfirmed" in text
    assert "final stop published (link unconfirmed)" in text
    assert "status=offline not acknowledged" in text and "Last Will" in text


def test_a_second_daemon_with_the_same_device_id_yields_with_exit_78_and_nobody_flaps(
    own_broker, replay_config, tmp_path
):
    device = f"dup-{uuid.uuid4().hex[:6]}"
    rec = Recorder(own_broker, f"gesturepilot/{device}/status")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(replay_config(own_broker, device, "first"), first_log)
    try:
        rec.wait_for(lambda m: m.payload == "online", 30)
        second = start(replay_config(own_broker, device, "second"), second_log)
        try:
            assert second.wait(30) == EX_CONFIG, second_log.read_text()
        finally:
            stop(second)
        assert first.poll() is None, first_log.read_text()
        time.sleep(1.0)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(5)
        rec.close()
    first_text, second_text = first_log.read_text(), second_log.read_text()
    assert "is in use by another daemon" in second_text
    assert "another daemon (instance" in first_text and "it yields to this one" in first_text
    assert "MQTT disconnected" not in first_text  # not kicked off, no flapping


def connect_log(cfg: MqttConfig, caplog, wait: float = 1.0) -> str:
    pub = Publisher(cfg)
    pub.start()
    try:
        assert not pub.wait_connected(wait)
    finally:
        pub.close()
    return caplog.text


def test_tls_failures_are_logged_with_their_reason(pki, caplog):
    tls = f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
    with LocalBroker(extra_conf=tls) as broker:
        base = {"host": "127.0.0.1", "port": broker.port, "device_id": "tls"}
        text = connect_log(MqttConfig(**base, tls_ca=str(pki / "other-ca.crt")), caplog)
        assert "certificate verify failed" in text.lower()
        caplog.clear()
        text = connect_log(MqttConfig(**base), caplog)  # plain text to the TLS port
        assert "closed before the broker accepted it" in text
    with LocalBroker() as plain:
        caplog.clear()
        cfg = MqttConfig(host="127.0.0.1", port=plain.port, tls_ca=str(pki / "ca.crt"))
        text = connect_log(cfg, caplog)  # TLS to a plain port
        assert "TLS handshake" in text or "SSL" in text


def test_a_wrong_password_is_logged_once_with_the_broker_reason(tmp_path, caplog):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "car1", "right"], check=True)
    passwd.chmod(0o600)
    with LocalBroker(extra_conf=f"password_file {passwd}\n", anonymous=False) as broker:
        cfg = MqttConfig(
            host="127.0.0.1", port=broker.port, device_id="car1", username="car1", password="wrong"
        )
        text = connect_log(cfg, caplog, wait=3.0)
    assert "refused by the broker: Bad user name or password" in text or "Not authorized" in text
    assert text.count("MQTT connection refused") == 1  # once, not every reconnect


def test_a_session_taken_over_again_and_again_is_reported_as_such(own_broker, caplog):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    pub = Publisher(MqttConfig(host=own_broker.host, port=own_broker.port, device_id="taken"))
    pub.start()
    try:
        assert pub.wait_connected(5)
        thief = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=pub.client_id,
            protocol=mqtt.MQTTv5,
        )  # fmt: skip
        thief.connect(own_broker.host, own_broker.port)
        thief.loop_start()
        deadline = time.monotonic() + 10  # three take-overs: ~1-1.5 s each (reconnect backoff)
        while "taking over this session" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        thief.disconnect()
        thief.loop_stop()
    finally:
        pub.close()
    # mosquitto 2.0 closes the older connection without a DISCONNECT reason, so the pattern
    # (lost again and again right after connecting) is what names it
    assert "MQTT connection lost 3 times in 60 s: another client is probably taking" in caplog.text


def test_the_shipped_daemon_under_an_8_s_hang_never_makes_a_listening_car_execute_old_commands(
    own_broker, frames_factory, image_model, tmp_path
):
    # The probe from the issue: a daemon holding `up` (10 commands/s), a car listening, the
    # broker SIGSTOPped 8 s. The car stops on its own timeout meanwhile; on resume the broker
    # releases what the daemon wrote before it noticed the hang, and none of it may move the car.
    from test_faults_broker import MAX_AGE, TimedCar

    frames = frames_factory("hang-up", (("up", 12),), seed=1)
    device = f"hang8-{uuid.uuid4().hex[:6]}"
    config = write_config(
        tmp_path / "hang.toml",
        {
            "camera": {"backend": "replay", "path": str(frames), "fps": 10.0, "loop": True},
            "model": {"path": str(image_model), "num_threads": 1},
            "safety": {"repeat_interval": 0.1},
            "mqtt": {"host": own_broker.host, "port": own_broker.port, "device_id": device},
        },
    )
    log = tmp_path / "daemon.log"
    car = TimedCar(own_broker.host, own_broker.port, device, timeout=1.0)  # default max_age
    car.start()
    daemon = start(config, log)
    try:
        deadline = time.monotonic() + 30
        while car.current != "forward" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert car.current == "forward", log.read_text()
        paused = time.monotonic()
        own_broker.pause()
        noticed = None
        while time.monotonic() - paused < 8.0:
            if noticed is None and "MQTT link unconfirmed" in log.read_text():
                noticed = time.monotonic() - paused
            time.sleep(0.05)
        own_broker.resume()
        resumed = time.monotonic()
        while car.current != "forward" and time.monotonic() - resumed < 10:
            time.sleep(0.05)
        back = time.monotonic() - resumed
        obeys_again = car.current == "forward"
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(5) == 0
    finally:
        own_broker.resume()
        stop(daemon)
        car.close()
    stale = [(c, round(age, 2)) for c, age in car.executed if age > MAX_AGE]
    assert noticed is not None
    print(
        f"8 s hang, shipped daemon: link unconfirmed after {noticed:.2f} s, car obeys {back:.2f} s "
        f"after resume, {car.rejections['stale command dropped']} stale commands dropped"
    )
    assert stale == [], stale
    assert noticed <= 2 * 5  # 2 x the default keepalive
    assert obeys_again, "the car obeys fresh commands after the hang"
