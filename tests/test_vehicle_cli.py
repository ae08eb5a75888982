"""`gesture-edge subscribe`: config errors exit 78 naming file and key, usage 2, and the real
process follows the real Publisher through a real mosquitto until SIGTERM stops it (exit 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from devtools.waiting import until
from edge.config import ConfigError, MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.config import load_vehicle_config, parse_vehicle_config

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")


def subscribe(adapter: str, config: Path, log: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(GESTURE_EDGE), "subscribe", "--adapter", adapter, "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        env={**os.environ, **env},
    )


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GESTURE_EDGE), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize("name", ["vehicle-car.toml", "vehicle-drone.toml"])
def test_the_shipped_vehicle_configs_are_valid(repo_root, name):
    adapter = "car" if "car" in name else "drone"
    cfg = load_vehicle_config(repo_root / "configs" / name, adapter)
    assert cfg.vehicle.device_id and cfg.vehicle.adapter == adapter


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ('[vehicle]\ndevice_id = "c"\ntimeot = 1\n', "[vehicle] timeot: unknown key"),
        ("[vehicle]\ntimeout = 1.0\n", "[vehicle] device_id: required"),
        ('[vehicle]\ndevice_id = "+"\n', "[vehicle] device_id: '+' must name one daemon"),
        ('[vehicle]\ndevice_id = "c"\nadapter = "drone"\n', "[vehicle] adapter: 'drone'"),
        ('[vehicle]\ndevice_id = "c"\n[car]\nspeed = 2\n', "[car] speed: 2.0 out of range"),
        ('[vehicle]\ndevice_id = "c"\n[car]\nleft_pins = [22, 18]\n', "[car] right_pins: a pin"),
        ('[vehicle]\ndevice_id = "c"\n[drone]\nfailsafe = "crash"\n', "[drone] failsafe"),
        ('[vehicle]\ndevice_id = "c"\n[boat]\n', "[boat]: unknown section"),
        ('[vehicle]\ndevice_id = "c"\n[car]\npwm = false\n', "[car] speed: 0.6 needs pwm = true"),
        ('[vehicle]\ndevice_id = "c"\n[mqtt]\npassword_env = "X"\n', "a password needs a user"),
        ("[vehicle\n", "not valid TOML"),
    ],
)
def test_a_bad_vehicle_config_exits_78_naming_the_file_and_the_key(tmp_path, toml, error):
    path = tmp_path / "vehicle.toml"
    path.write_text(toml)
    proc = run("subscribe", "--adapter", "car", "--config", str(path))
    assert proc.returncode == 78, proc.stderr
    assert str(path) in proc.stderr and error in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_config_file_exits_78_and_an_unknown_adapter_exits_2(tmp_path):
    proc = run("subscribe", "--adapter", "sim", "--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 78 and "cannot read config" in proc.stderr
    proc = run("subscribe", "--adapter", "boat", "--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "invalid choice: 'boat'" in proc.stderr
    proc = run("subscribe", "--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "--adapter" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_config_rules_refuse_tls_halves():
    with pytest.raises(ConfigError, match=r"\[mqtt\] tls_cert: tls_cert and tls_key"):
        parse_vehicle_config(
            {"vehicle": {"device_id": "c"}, "mqtt": {"tls_cert": "/etc/hostname"}}, "sim"
        )


def test_subscribe_follows_the_real_publisher_and_sigterm_stops_the_car_with_exit_0(
    broker, tmp_path
):
    device = f"veh-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "vehicle.toml"
    config.write_text(
        f'[vehicle]\nadapter = "sim"\ndevice_id = "{device}"\ntimeout = 5.0\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
    )
    log = tmp_path / "vehicle.log"
    proc = subscribe("sim", config, log)
    try:
        assert until(lambda: "sim adapter following" in log.read_text(), 10), log.read_text()
        time.sleep(0.3)  # subscribed (SafeSubscriber.start waits for the SUBACK)
        with Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device)) as pub:
            assert pub.wait_connected(10) and until(pub.confirmed)
            pub.command(Command("forward", "up", 0.9, time.time()))
            assert until(lambda: "car: FORWARD" in log.read_text()), log.read_text()
            pub.command(Command("left", "left", 0.9, time.time()))
            assert until(lambda: "car: LEFT" in log.read_text()), log.read_text()
            start = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(5) == 0, log.read_text()
            took = time.monotonic() - start
        text = log.read_text()
        assert "car: STOP" in text.split("car: LEFT", 1)[1] and "(shutdown)" in text
        assert took < 2.0 and "Traceback" not in text
    finally:
        if proc.poll() is None:
            proc.kill()


def test_subscribe_stops_the_car_when_the_daemon_goes_offline(broker, tmp_path):
    device = f"veh-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "vehicle.toml"
    config.write_text(
        f'[vehicle]\ndevice_id = "{device}"\ntimeout = 5.0\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
    )
    log = tmp_path / "vehicle.log"
    proc = subscribe("sim", config, log)
    try:
        assert until(lambda: "sim adapter following" in log.read_text(), 10), log.read_text()
        time.sleep(0.3)
        pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
        pub.start()
        assert pub.wait_connected(10) and until(pub.confirmed)
        pub.command(Command("forward", "up", 0.9, time.time()))
        assert until(lambda: "car: FORWARD" in log.read_text()), log.read_text()
        pub.close()  # status=offline, retained
        assert until(lambda: "(daemon offline)" in log.read_text()), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_subscribe_without_a_broker_says_so_stays_stopped_and_exits_0_on_sigterm(tmp_path):
    from devtools.localbroker import free_port

    port = free_port()  # nothing listens there
    config = tmp_path / "vehicle.toml"
    config.write_text(f'[vehicle]\ndevice_id = "c1"\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n')
    log = tmp_path / "vehicle.log"
    proc = subscribe("sim", config, log)
    try:
        expected = f"cannot connect to the broker 127.0.0.1:{port} (ConnectionRefusedError"
        assert until(lambda: expected in log.read_text(), 10), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        text = log.read_text()
        assert "car: " not in text and "Traceback" not in text
        assert text.count("cannot connect to the broker") == 1  # once per reason, not per retry
    finally:
        if proc.poll() is None:
            proc.kill()


ON_A_PI = "Raspberry" in (
    Path("/proc/device-tree/model").read_text(errors="replace")
    if Path("/proc/device-tree/model").exists()
    else ""
)


@pytest.mark.skipif(ON_A_PI, reason="this machine has GPIO pins")
def test_subscribe_car_without_gpio_exits_1_with_one_line_naming_the_pins(tmp_path):
    config = tmp_path / "vehicle.toml"
    config.write_text('[vehicle]\ndevice_id = "c1"\n[mqtt]\nport = 1\n')
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    proc = subprocess.run(
        [str(GESTURE_EDGE), "subscribe", "--adapter", "car", "--config", str(config)],
        capture_output=True, text=True, timeout=30, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "car: cannot open GPIO pins [17, 18] [22, 23]" in line and "BadPinFactory" in line


def test_subscribe_car_drives_gpiozero_mock_pins_in_the_real_process(broker, tmp_path):
    # GPIOZERO_PIN_FACTORY=mock is gpiozero's own switch; its default MockPin has no PWM
    device = f"veh-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "vehicle.toml"
    config.write_text(
        f'[vehicle]\nadapter = "car"\ndevice_id = "{device}"\ntimeout = 5.0\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n[car]\npwm = false\nspeed = 1.0\n'
    )
    log = tmp_path / "vehicle.log"
    proc = subscribe("car", config, log, GPIOZERO_PIN_FACTORY="mock")
    try:
        assert until(lambda: "car adapter following" in log.read_text(), 10), log.read_text()
        with Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device)) as pub:
            assert pub.wait_connected(10) and until(pub.confirmed)
            until(lambda: pub.command(Command("forward", "up", 0.9, time.time()))
                  and "motors: forward" in log.read_text(), 5)  # fmt: skip
            assert "motors: forward (left +1.0, right +1.0)" in log.read_text(), log.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(5) == 0, log.read_text()
        assert "motors: stop" in log.read_text().split("motors: forward", 1)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
