"""The shipped ROS 2 bridge params, read the way ROS 2 reads them: every key one that
mqtt_client >= 2.5.0 declares, and a login that the shipped broker (TLS, client certificate,
user/password, ACL) accepts."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from devtools.localbroker import LocalBroker
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "configs/ros2/mqtt_client.yaml"
SECRET = REPO / "configs/ros2/mqtt_client.secret.example.yaml"
BROKER_CONF = REPO / "configs/mosquitto/gesturepilot.conf"
ACL = REPO / "configs/mosquitto/gesturepilot.acl"

# Transcribed from ika-rwth-aachen/mqtt_client, mqtt_client/src/MqttClient.ros2.cpp,
# MqttClient::loadParameters(): its declare_parameter(...) calls (read at commit 0871e9f5). A
# parameter set in a file but not declared is never read (allow_undeclared_parameters is off):
# client.tls.version/verify/alpn_protos are read there but not declared, so they are not here.
DECLARED = {
    "broker.host", "broker.port", "broker.user", "broker.pass",
    "broker.tls.enabled", "broker.tls.ca_certificate",
    "client.id", "client.buffer.size", "client.buffer.directory",
    "client.last_will.topic", "client.last_will.message", "client.last_will.qos",
    "client.last_will.retained", "client.clean_session", "client.keep_alive_interval",
    "client.max_inflight", "client.tls.certificate", "client.tls.key", "client.tls.password",
    "bridge.ros2mqtt.ros_topics", "bridge.mqtt2ros.mqtt_topics",
}  # fmt: skip
# Declared once per entry of bridge.ros2mqtt.ros_topics / bridge.mqtt2ros.mqtt_topics (the
# same file), plus `json`, which v2.5.0 added for both directions (pull request #95, "JSON
# message bridging"; its config/params.json.yaml: `json: true` beside a fixed `ros_type`).
PER_ROS_TOPIC = {
    "mqtt_topic", "primitive", "ros_type", "inject_timestamp", "advanced.ros.queue_size",
    "advanced.ros.qos.reliability", "advanced.ros.qos.durability", "advanced.mqtt.qos",
    "advanced.mqtt.retained", "json",
}  # fmt: skip
PER_MQTT_TOPIC = {
    "ros_topic", "primitive", "ros_type", "advanced.mqtt.qos", "advanced.ros.queue_size",
    "advanced.ros.qos.durability", "advanced.ros.qos.reliability", "advanced.ros.latched", "json",
}  # fmt: skip


def flatten(path: Path) -> dict[str, dict[str, Any]]:
    """A ROS 2 params file as rcl's YAML parser reads it: `<node>: ros__parameters:` then
    nested mappings joined with '.'; a list is one (array) value."""
    out: dict[str, dict[str, Any]] = {}
    for node, body in yaml.safe_load(path.read_text()).items():
        assert set(body) == {"ros__parameters"}, f"{path.name}: {node} needs ros__parameters"

        def walk(prefix: str, value: Any, params: dict[str, Any]) -> None:
            if isinstance(value, dict):
                for key, sub in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), sub, params)
            else:
                params[prefix] = value

        out[node] = {}
        walk("", body["ros__parameters"], out[node])
    return out


def declared(params: dict[str, Any]) -> set[str]:
    """The names mqtt_client declares for these params (its per-topic ones for their topics)."""
    names = set(DECLARED)
    for topic in params.get("bridge.ros2mqtt.ros_topics", []):
        names |= {f"bridge.ros2mqtt.{topic}.{p}" for p in PER_ROS_TOPIC}
    for topic in params.get("bridge.mqtt2ros.mqtt_topics", []):
        names |= {f"bridge.mqtt2ros.{topic}.{p}" for p in PER_MQTT_TOPIC}
    return names


def bridge_params() -> dict[str, Any]:
    """The shipped params with the secret file after them (later files override earlier)."""
    merged: dict[str, Any] = {}
    for path in (PARAMS, SECRET):
        (node_params,) = flatten(path).values()
        merged |= node_params
    return merged


def broker_conf() -> dict[str, str]:
    lines = [line.split(None, 1) for line in BROKER_CONF.read_text().splitlines()]
    return {parts[0]: parts[1].strip() for parts in lines if len(parts) == 2 and parts[0][0] != "#"}


def test_flatten_joins_nested_keys_with_dots_under_the_node(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("/**/*:\n  ros__parameters:\n    a:\n      b/c:\n        d: 1\n      e: [x, y]\n")
    assert flatten(f) == {"/**/*": {"a.b/c.d": 1, "a.e": ["x", "y"]}}


@pytest.mark.parametrize("path", [PARAMS, SECRET], ids=lambda p: p.name)
def test_every_shipped_param_is_one_mqtt_client_declares(path):
    merged = bridge_params()
    for node, params in flatten(path).items():
        assert node in ("/**/*", "/**", "mqtt_client"), node  # the launch file's node name
        unknown = sorted(set(params) - declared(merged))
        assert not unknown, f"{path.name}: mqtt_client declares no {unknown}"


def test_the_params_are_read_the_way_mqtt_client_reads_them():
    p = bridge_params()
    # loadParameters reads broker.pass only with broker.user, client.tls.* only with TLS on
    assert p["broker.user"] and "broker.pass" in p
    assert p["broker.tls.enabled"] is True
    assert p["client.tls.certificate"] and p["client.tls.key"]
    assert isinstance(p["broker.port"], int) and isinstance(p["broker.host"], str)
    (topic,) = p["bridge.mqtt2ros.mqtt_topics"]
    assert p[f"bridge.mqtt2ros.{topic}.json"] is True  # JSON mode needs a fixed type:
    assert p[f"bridge.mqtt2ros.{topic}.ros_type"] == "geometry_msgs/msg/Twist"
    for key in ("broker.tls.ca_certificate", "client.tls.certificate", "client.tls.key"):
        assert p[key].startswith("/"), f"{key}: relative paths resolve against ROS_HOME"


def test_the_params_log_in_the_way_the_shipped_broker_demands():
    conf, p = broker_conf(), bridge_params()
    assert conf["listener"] == str(p["broker.port"]) == "8883"
    assert conf["allow_anonymous"] == "false" and p["broker.user"]
    assert conf["cafile"] and p["broker.tls.enabled"] is True and p["broker.tls.ca_certificate"]
    assert conf["require_certificate"] == "true" and p["client.tls.certificate"]
    acl = ACL.read_text()
    block = acl.split(f"\nuser {p['broker.user']}\n", 1)[1].split("\n\n", 1)[0]
    (topic,) = p["bridge.mqtt2ros.mqtt_topics"]
    reads = [line.split()[-1] for line in block.splitlines() if line.startswith("topic read")]
    pattern = "^" + "|".join(re.escape(r).replace(r"\+", "[^/]+") for r in reads) + "$"
    assert re.match(pattern, topic) and re.match(pattern, f"mqtt_client/ros_msg_type/{topic}")


def test_the_documented_ros2_commands_name_files_that_exist_in_mqtt_client_2_5():
    docs = {
        path: path.read_text()
        for path in (REPO / "docs/integrations.md", REPO / "docs/daemon.md", PARAMS)
    }
    for path, text in docs.items():
        assert "standalone.launch.ros2.xml params_file" not in text, path
        assert "2.5.0" in text, f"{path.name} must state the minimum mqtt_client version"
        commands = re.findall(r"ros2 (?:run|launch) mqtt_client \S+", text)
        assert commands, path
        assert all(c.endswith((" mqtt_client", " standalone.launch.xml")) for c in commands)


@pytest.fixture(scope="module")
def shipped_broker(pki: Path, tmp_path_factory) -> LocalBroker:
    """mosquitto with the shipped ACL, logins, and TLS demanding a client certificate."""
    passwd = tmp_path_factory.mktemp("ros2-broker") / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "ros-bridge", "pw-bridge"],
                   check=True)  # fmt: skip
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "car1", "pw-car1"], check=True)
    passwd.chmod(0o600)
    conf = (
        f"cafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\nkeyfile {pki / 'server.key'}\n"
        f"require_certificate true\npassword_file {passwd}\nacl_file {ACL}\n"
    )
    with LocalBroker(extra_conf=conf, anonymous=False) as broker:
        yield broker


def test_a_client_set_up_from_the_params_as_mqtt_client_does_gets_the_daemons_twists(
    shipped_broker, pki
):
    # MqttClient::setupClient: ssl:// when broker.tls.enabled, trust store = ca_certificate,
    # key store + private key = client.tls.*, user name + password = broker.user/pass. The files
    # and host are this test's; every other value is the shipped params'.
    p = bridge_params()
    (shipped,) = p["bridge.mqtt2ros.mqtt_topics"]
    topic = shipped.replace("pi-car", "car1")
    qos = p[f"bridge.mqtt2ros.{shipped}.advanced.mqtt.qos"]
    got: list[dict[str, Any]] = []
    ready = threading.Event()
    bridge = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=p["client.id"])
    bridge.username_pw_set(p["broker.user"], "pw-bridge")
    assert p["broker.tls.enabled"]
    bridge.tls_set(str(pki / "ca.crt"), str(pki / "client.crt"), str(pki / "client.key"),
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)  # fmt: skip

    def on_connect(c: mqtt.Client, u: Any, f: Any, rc: Any, props: Any) -> None:
        if not rc.is_failure:
            c.subscribe(topic, qos=qos)

    bridge.on_connect = on_connect
    bridge.on_subscribe = lambda *a: ready.set()
    bridge.on_message = lambda c, u, m: got.append(json.loads(m.payload))
    bridge.connect("127.0.0.1", shipped_broker.port)
    bridge.loop_start()
    try:
        assert ready.wait(10), "the bridge's login was refused"
        cfg = MqttConfig(host="127.0.0.1", port=shipped_broker.port, device_id="car1",
                         username="car1", password="pw-car1", cmd_vel=True,
                         tls_ca=str(pki / "ca.crt"), tls_cert=str(pki / "client.crt"),
                         tls_key=str(pki / "client.key"))  # fmt: skip
        with Publisher(cfg) as pub:
            assert pub.wait_connected(10)
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                pub.command(Command("forward", "up", 0.9, time.time()))
                time.sleep(0.2)
    finally:
        bridge.disconnect()
        bridge.loop_stop()
    assert got and got[0]["linear"]["x"] > 0  # a geometry_msgs/msg/Twist, as JSON
