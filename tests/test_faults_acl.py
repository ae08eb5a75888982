"""The shipped mosquitto ACL (configs/mosquitto/gesturepilot.acl) with per-device passwords over
TLS with client certificates: each daemon writes only its own topics, each vehicle reads only
its own daemon's, and nobody else can drive a vehicle."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devtools.localbroker import LocalBroker
from devtools.waiting import until
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command
from subscribers.sim_car import SimCar

ACL = Path(__file__).resolve().parents[1] / "configs" / "mosquitto" / "gesturepilot.acl"
LOGINS = {"car1": "pw-car1", "car2": "pw-car2", "vehicle-car1": "pw-vehicle-car1"}
LOGINS["ros-bridge"] = "pw-ros-bridge"
LOGINS["homeassistant"] = "pw-homeassistant"


@pytest.fixture(scope="module")
def secured(pki: Path, tmp_path_factory) -> LocalBroker:
    passwd = tmp_path_factory.mktemp("mosquitto") / "passwd"
    for i, (user, password) in enumerate(LOGINS.items()):
        create = ["-c"] if i == 0 else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, password], check=True)
    passwd.chmod(0o600)
    conf = (
        f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
        f"require_certificate true\npassword_file {passwd}\nacl_file {ACL}\n"
    )
    with LocalBroker(extra_conf=conf, anonymous=False) as broker:
        yield broker


def tls(pki: Path) -> dict[str, str]:
    return {
        "tls_ca": str(pki / "ca.crt"),
        "tls_cert": str(pki / "client.crt"),
        "tls_key": str(pki / "client.key"),
    }


def daemon(broker: LocalBroker, pki: Path, device: str, **extra: Any) -> Publisher:
    cfg = MqttConfig(
        host="127.0.0.1",
        port=broker.port,
        device_id=device,
        username=device,
        password=LOGINS[device],
        **tls(pki),
        **extra,
    )
    pub = Publisher(cfg)
    pub.start()
    assert pub.wait_connected(5)
    return pub


def vehicle(broker: LocalBroker, pki: Path) -> SimCar:
    car = SimCar(
        "127.0.0.1",
        broker.port,
        "car1",
        timeout=5.0,
        username="vehicle-car1",
        password=LOGINS["vehicle-car1"],
        **tls(pki),
    )
    return car.start()


def raw(broker: LocalBroker, pki: Path, user: str) -> tuple[mqtt.Client, list[str]]:
    """A plain client logged in as `user` that records what it receives."""
    got: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, LOGINS[user])
    client.tls_set(ca_certs=str(pki / "ca.crt"), certfile=str(pki / "client.crt"),
                   keyfile=str(pki / "client.key"))  # fmt: skip
    client.on_message = lambda c, u, m: got.append(m.topic)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.wait(5)
    return client, got


def forged(seq: int) -> str:
    return json.dumps({"command": "forward", "seq": seq, "ts": time.time(), "gesture": "up"})


def test_a_vehicle_follows_its_own_daemon_over_tls_with_passwords(secured, pki):
    pub, car = daemon(secured, pki, "car1"), vehicle(secured, pki)
    try:
        cmd = Command(command="forward", gesture="up", confidence=0.9, ts=time.time())
        assert until(lambda: pub.command(cmd) and car.current == "forward", 5)
    finally:
        car.close()
        pub.close()


def test_another_device_or_the_vehicle_itself_cannot_write_the_daemons_commands(secured, pki):
    car = vehicle(secured, pki)
    clients = [raw(secured, pki, "car2")[0], raw(secured, pki, "vehicle-car1")[0]]
    try:
        for seq, client in enumerate(clients, start=2**40):
            client.publish("gesturepilot/car1/command", forged(seq), qos=1).wait_for_publish(2)
            client.publish("gesturepilot/car1/status", "offline", qos=1).wait_for_publish(2)
        time.sleep(0.5)
        assert car.current == "stop" and car.accepted == 0 and car.rejected == 0
    finally:
        for client in clients:
            client.disconnect()
            client.loop_stop()
        car.close()


def test_a_vehicle_reads_nothing_of_another_daemon(secured, pki):
    pub = daemon(secured, pki, "car2")
    client, got = raw(secured, pki, "vehicle-car1")
    try:
        client.subscribe("gesturepilot/car2/#")
        client.subscribe("gesturepilot/#")
        time.sleep(0.3)
        cmd = Command(command="left", gesture="left", confidence=0.9, ts=time.time())
        assert until(lambda: pub.command(cmd), 3)
        pub.stats({"fps": 1.0})
        time.sleep(0.5)
        assert [t for t in got if "/car2/" in t] == []
    finally:
        client.disconnect()
        client.loop_stop()
        pub.close()


def test_the_ros_bridge_reads_every_devices_cmd_vel_and_nothing_else_and_writes_nothing(
    secured, pki
):
    pubs = [daemon(secured, pki, device, cmd_vel=True) for device in ("car1", "car2")]
    car = vehicle(secured, pki)
    bridge, got = raw(secured, pki, "ros-bridge")
    try:
        # what mqtt_client subscribes to for configs/ros2/mqtt_client.yaml, and more it must not get
        for topic in ("gesturepilot/+/cmd_vel", "mqtt_client/ros_msg_type/gesturepilot/+/cmd_vel",
                      "gesturepilot/+/command", "gesturepilot/+/status"):  # fmt: skip
            bridge.subscribe(topic, qos=0)
        time.sleep(0.3)
        cmd = Command(command="forward", gesture="up", confidence=0.9, ts=time.time())
        assert until(lambda: all(p.command(cmd) for p in pubs) and len(set(got)) >= 2, 5)
        assert set(got) == {"gesturepilot/car1/cmd_vel", "gesturepilot/car2/cmd_vel"}
        time.sleep(0.3)
        accepted = car.accepted
        for topic in ("gesturepilot/car1/command", "gesturepilot/car1/cmd_vel"):
            bridge.publish(topic, forged(2**41), qos=1).wait_for_publish(2)
        time.sleep(0.5)
        assert car.accepted == accepted and car.rejected == 0  # the forgery never arrived
    finally:
        bridge.disconnect()
        bridge.loop_stop()
        car.close()
        for pub in pubs:
            pub.close()


def test_home_assistant_discovers_a_daemon_and_its_birth_message_gets_the_configs_again(
    secured, pki
):
    pub = daemon(secured, pki, "car1", ha_discovery=True)
    car = vehicle(secured, pki)
    ha, got = raw(secured, pki, "homeassistant")
    try:
        ha.subscribe("homeassistant/+/gesturepilot_car1/#", qos=1)
        ha.subscribe("gesturepilot/car1/gesture")
        assert until(lambda: len(got) >= 3, 5), "HA reads the retained discovery configs"
        configs = len(got)
        ha.publish("homeassistant/status", "online", qos=1).wait_for_publish(2)
        assert until(lambda: len(got) >= 2 * configs, 5), "the daemon hears HA's birth"
        pub.gesture("peace", 0.9, time.time())
        assert until(lambda: "gesturepilot/car1/gesture" in got, 3)
        ha.publish("gesturepilot/car1/command", forged(2**42), qos=1).wait_for_publish(2)
        ha.publish("homeassistant/sensor/gesturepilot_car2/x/config", "{}", qos=1, retain=True)
        time.sleep(0.3)
        assert retained(secured, pki, "homeassistant/sensor/gesturepilot_car2/#") == []
        assert car.accepted == 0, "Home Assistant cannot command a vehicle"
    finally:
        ha.disconnect()
        ha.loop_stop()
        car.close()
        pub.close()


def retained(broker: LocalBroker, pki: Path, topic: str) -> list[str]:
    client, got = raw(broker, pki, "homeassistant")
    client.subscribe(topic)
    time.sleep(0.4)
    client.disconnect()
    client.loop_stop()
    return got


def test_a_daemon_cannot_publish_under_another_device_id(secured, pki):
    car = vehicle(secured, pki)
    pub = daemon(secured, pki, "car2")
    pub.root = "gesturepilot/car1"  # a misconfigured (or hostile) daemon with car2's login
    try:
        cmd = Command(command="forward", gesture="up", confidence=0.9, ts=time.time())
        pub.command(cmd, force=True)
        time.sleep(0.5)
        assert car.current == "stop" and car.accepted == 0
    finally:
        pub.close()
        car.close()


def test_a_wrong_password_or_no_client_certificate_is_refused(secured, pki, caplog):
    cfg = MqttConfig(host="127.0.0.1", port=secured.port, device_id="car1", username="car1",
                     password="guess", **tls(pki))  # fmt: skip
    no_cert = MqttConfig(host="127.0.0.1", port=secured.port, device_id="car1", username="car1",
                         password=LOGINS["car1"], tls_ca=str(pki / "ca.crt"))  # fmt: skip
    for attempt in (cfg, no_cert):
        pub = Publisher(attempt)
        pub.start()
        try:
            assert not pub.wait_connected(1.0)
        finally:
            pub.close()
    assert "refused by the broker" in caplog.text
