"""The optional cmd_vel topic: geometry_msgs/msg/Twist-shaped JSON from the real Publisher through
a real mosquitto, speeds from config, zeros on every stop, and the mqtt_client bridge params."""

from __future__ import annotations

import time
import uuid

import pytest
import yaml
from fixtures.broker import Recorder

from devtools.waiting import until
from edge.config import MqttConfig, parse_config
from edge.link import cmd_vel, schemas
from edge.link.publisher import Publisher
from edge.types import Command

# ROS 2 common_interfaces: geometry_msgs/msg/Twist is `Vector3 linear`, `Vector3 angular`;
# geometry_msgs/msg/Vector3 is `float64 x`, `float64 y`, `float64 z`.
TWIST_FIELDS = {"linear": "geometry_msgs/Vector3", "angular": "geometry_msgs/Vector3"}
VECTOR3_FIELDS = {"x": "float64", "y": "float64", "z": "float64"}


def is_twist(value: object) -> bool:
    """Exactly the fields a JSON-to-ROS converter fills a Twist from, every one a float64."""
    return (
        isinstance(value, dict)
        and set(value) == set(TWIST_FIELDS)
        and all(
            isinstance(v, dict)
            and set(v) == set(VECTOR3_FIELDS)
            and all(isinstance(x, float) for x in v.values())
            for v in value.values()
        )
    )


SPEEDS = {"cmd_vel_linear": 0.35, "cmd_vel_angular": 0.8, "cmd_vel_vertical": 0.25}


@pytest.mark.parametrize(
    ("command", "linear", "angular"),
    [
        ("forward", (0.35, 0, 0), (0, 0, 0)),
        ("backward", (-0.35, 0, 0), (0, 0, 0)),
        ("left", (0, 0, 0), (0, 0, 0.8)),  # REP 103: positive yaw turns left
        ("right", (0, 0, 0), (0, 0, -0.8)),
        ("up", (0, 0, 0.25), (0, 0, 0)),
        ("down", (0, 0, -0.25), (0, 0, 0)),
        ("stop", (0, 0, 0), (0, 0, 0)),
        ("land", (0, 0, 0), (0, 0, 0)),
        ("takeoff", (0, 0, 0), (0, 0, 0)),
    ],
)
def test_each_command_maps_to_a_twist_with_the_configured_speeds(command, linear, angular):
    t = cmd_vel.twist(command, MqttConfig(**SPEEDS))
    assert is_twist(t) and schemas.is_valid("cmd_vel", t)
    assert tuple(t["linear"].values()) == linear and tuple(t["angular"].values()) == angular


def test_cmd_vel_speeds_are_validated_config_keys():
    cfg = parse_config({"mqtt": {"cmd_vel": True, "cmd_vel_linear": 0.5}})
    assert cfg.mqtt.cmd_vel and cfg.mqtt.cmd_vel_linear == 0.5
    with pytest.raises(ValueError, match=r"\[mqtt\] cmd_vel_angular: 50.0 out of range"):
        parse_config({"mqtt": {"cmd_vel_angular": 50}})


def test_the_publisher_sends_a_twist_beside_every_command_and_zeros_on_every_stop(broker):
    device = f"vel-{uuid.uuid4().hex[:8]}"
    rec = Recorder(broker, f"gesturepilot/{device}/#")
    cfg = MqttConfig(host=broker.host, port=broker.port, device_id=device, cmd_vel=True, **SPEEDS)
    try:
        with Publisher(cfg) as pub:
            assert pub.wait_connected(10) and until(pub.confirmed)
            sequence = [("forward", "gesture"), ("forward", "repeat"), ("left", "gesture"),
                        ("stop", "deadman"), ("right", "gesture"), ("stop", "stall"),
                        ("stop", "shutdown")]  # fmt: skip
            for name, reason in sequence:
                assert pub.command(Command(name, "g", 0.9, time.time(), reason))
            assert until(lambda: len(rec.on("cmd_vel")) == len(sequence))
        twists = rec.on("cmd_vel")
        assert all(is_twist(m.json()) and schemas.is_valid("cmd_vel", m.json()) for m in twists)
        assert [m.expiry for m in twists] == [cfg.command_expiry] * len(sequence)
        assert not any(m.retain for m in twists)
        expected = [cmd_vel.twist(name, cfg) for name, _ in sequence]
        assert [m.json() for m in twists] == expected
        for (name, _), m in zip(sequence, twists, strict=True):
            if name == "stop":
                values = [*m.json()["linear"].values(), *m.json()["angular"].values()]
                assert values == [0.0] * 6
    finally:
        rec.close()


def test_no_cmd_vel_topic_unless_enabled(broker):
    device = f"vel-{uuid.uuid4().hex[:8]}"
    rec = Recorder(broker, f"gesturepilot/{device}/#")
    try:
        with Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device)) as pub:
            assert pub.wait_connected(10) and until(pub.confirmed)
            assert pub.command(Command("forward", "up", 0.9, time.time()))
            rec.wait_for(lambda m: m.topic.endswith("/command"))
            time.sleep(0.2)
        assert rec.on("cmd_vel") == []
    finally:
        rec.close()


def test_the_shipped_ros2_bridge_params_map_cmd_vel_to_a_json_twist(repo_root):
    params = yaml.safe_load((repo_root / "configs/ros2/mqtt_client.yaml").read_text())
    node = params["/**/*"]["ros__parameters"]
    bridge = node["bridge"]["mqtt2ros"]
    (topic,) = bridge["mqtt_topics"]
    prefix, device, name = topic.split("/")
    assert (
        name == "cmd_vel"
        and Publisher(MqttConfig(prefix=prefix, device_id=device)).topic("cmd_vel") == topic
    )
    entry = bridge[topic]
    assert entry["ros_topic"] == "/cmd_vel"
    assert entry["ros_type"] == "geometry_msgs/msg/Twist" and entry["json"] is True
    assert entry["advanced"]["mqtt"]["qos"] == 0
