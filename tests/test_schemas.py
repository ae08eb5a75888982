"""The JSON Schemas of the MQTT contract: shipped, valid, obeyed by the Publisher, enforced by
SafeSubscriber; the small validator agrees with the `jsonschema` package."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
from fixtures.broker import Recorder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import SteppedClock
from edge.config import MqttConfig
from edge.link import schemas
from edge.link.publisher import Publisher
from edge.pipeline.stats import Stats
from edge.types import Command
from subscribers.sim_car import SimCar

WALL = SteppedClock().wall
ROOT = "gesturepilot/car1"


def good_command(**change: object) -> dict:
    return {
        "command": "forward",
        "gesture": "up",
        "confidence": 0.9,
        "seq": 7,
        "ts": WALL,
        "reason": "gesture",
        **change,
    }


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_payload_schema_ships_in_the_package_and_is_valid_draft_2020_12(name):
    loaded = schemas.schema(name)
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert loaded["$schema"].endswith("/draft/2020-12/schema")
    assert (Path(schemas.__file__).parent / f"{name}.json").is_file()


def test_the_schema_files_are_package_data_in_pyproject(repo_root):
    text = (repo_root / "pyproject.toml").read_text()
    assert '"link/schemas/*.json"' in text


def test_an_unknown_schema_name_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="known: command"):
        schemas.schema("commands")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"confidence": "high"}, "not of type number"),
        ({"confidence": 1.5}, "maximum"),
        ({"seq": -1}, "minimum"),
        ({"seq": True}, "not of type integer"),
        ({"ts": 86400.0}, "exclusiveMinimum"),
        ({"command": "go now"}, "does not match"),
        ({"speed": 9}, "unexpected key"),
    ],
)
def test_a_command_that_breaks_the_contract_is_explained(change, why):
    problems = schemas.errors("command", good_command(**change))
    assert any(why in p for p in problems), problems
    assert not jsonschema.Draft202012Validator(schemas.schema("command")).is_valid(
        good_command(**change)
    )


def test_cmd_vel_schema_has_exactly_the_twist_fields():
    twist = {"linear": {"x": 0.5, "y": 0.0, "z": 0.0}, "angular": {"x": 0, "y": 0, "z": -1.2}}
    assert schemas.is_valid("cmd_vel", twist)
    assert not schemas.is_valid("cmd_vel", {**twist, "linear": {"x": 0.5, "y": 0.0}})
    assert not schemas.is_valid("cmd_vel", {**twist, "stamp": 1})


json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
near_command = st.fixed_dictionaries(
    {},
    optional={
        "command": st.sampled_from(["forward", "", "x" * 33, "a/b"]) | json_leaf,
        "gesture": st.text(max_size=70) | json_leaf,
        "confidence": st.floats(-1, 2) | json_leaf,
        "seq": st.integers(-5, 2**54) | json_leaf,
        "ts": st.sampled_from([WALL, 0, 1577836800, 1577836800.5]) | json_leaf,
        "reason": json_leaf,
        "extra": json_leaf,
    },
)


@settings(max_examples=400, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(st.sampled_from(schemas.NAMES), near_command | json_value)
def test_the_small_validator_agrees_with_the_jsonschema_package(name, value):
    reference = jsonschema.Draft202012Validator(schemas.schema(name)).is_valid(value)
    assert schemas.is_valid(name, value) == reference, schemas.errors(name, value)


def test_what_the_real_publisher_sends_to_a_real_mosquitto_fits_every_schema(broker):
    device = f"schema-{uuid.uuid4().hex[:8]}"
    rec = Recorder(broker, f"gesturepilot/{device}/#")
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    try:
        with pub:
            assert pub.wait_connected(10)
            rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == "online")
            deadline = time.monotonic() + 5
            while not pub.confirmed() and time.monotonic() < deadline:
                time.sleep(0.02)
            for name in ("forward", "left", "stop"):
                assert pub.command(Command(name, "up", 0.876543, time.time(), "gesture"))
            assert pub.gesture("up", 0.91, time.time())
            stats = Stats()
            stats.record(0, {"locate": 0.002, "classify": 0.001, "decide": 0.0001, "total": 0.004})
            stats.record(1, {"locate": 0.002, "classify": 0.001, "decide": 0.0001, "total": 0.004})
            assert pub.stats(stats.snapshot(model="m", runtime="ai-edge-litert", stalled=False))
            rec.wait_for(lambda m: m.topic.endswith("/stats"))
        rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == "offline")
        seen = {m.topic.rpartition("/")[2] for m in rec.messages}
        assert {"command", "gesture", "stats", "status"} <= seen
        for m in rec.messages:
            name = m.topic.rpartition("/")[2]
            if name in schemas.NAMES:
                value = m.payload if name == "status" else m.json()
                assert schemas.errors(name, value) == [], (name, m.payload)
    finally:
        rec.close()


def test_the_subscriber_drops_logs_and_counts_a_command_failing_the_schema(caplog):
    caplog.set_level("WARNING", logger="subscribers.base")
    car = SimCar("127.0.0.1", 1, "car1", clock=SteppedClock())
    for i, change in enumerate(({"confidence": "high"}, {"speed": 3}, {"gesture": 5})):
        car.handle(f"{ROOT}/command", json.dumps(good_command(seq=i + 1, **change)).encode())
    assert car.current == "stop" and car.actions == [] and car.accepted == 0
    assert car.rejections["command fails the schema"] == 3
    assert caplog.text.count("command fails the schema") == 3
    car.handle(f"{ROOT}/command", json.dumps(good_command(seq=9)).encode())
    assert car.current == "forward"  # a valid one right after is obeyed


def test_a_status_outside_the_schema_is_counted_and_still_stops_the_vehicle():
    car = SimCar("127.0.0.1", 1, "car1", clock=SteppedClock())
    car.handle(f"{ROOT}/command", json.dumps(good_command()).encode())
    assert car.current == "forward"
    car.handle(f"{ROOT}/status", b"rebooting")
    assert car.current == "stop" and car.rejections["status fails the schema"] == 1


def test_everything_the_real_daemon_process_publishes_fits_its_schema(
    broker, frames_factory, tmp_path
):
    """`gesture-edge run` on replayed real hand crops (image model), cmd_vel on, to the end."""
    from devtools.demo import dump_toml
    from edge.config.paths import models_dir

    device = f"schema-d-{uuid.uuid4().hex[:8]}"
    frames = frames_factory("schema", (("up", 10), ("none", 8), ("left", 10)))
    config = tmp_path / "daemon.toml"
    mqtt = {"host": broker.host, "port": broker.port, "device_id": device, "cmd_vel": True}
    sections = {
        "camera": {"backend": "replay", "path": str(frames), "fps": 20},
        "model": {"path": str(models_dir() / "gestures-image.tflite")},
        "mqtt": mqtt,
        "stats": {"interval": 0.3},
    }
    config.write_text(dump_toml(sections))
    rec = Recorder(broker, f"gesturepilot/{device}/#")
    log = tmp_path / "daemon.log"
    try:
        with log.open("w") as out:
            proc = subprocess.run(
                [str(Path(sys.executable).with_name("gesture-edge")), "run", "--config",
                 str(config)],
                stdout=out, stderr=out, timeout=60, check=False,
            )  # fmt: skip
        assert proc.returncode == 0, log.read_text()
        rec.wait_for(lambda m: m.topic.endswith("/status") and m.payload == "offline")
        by_topic: dict[str, int] = {}
        for m in rec.messages:
            name = m.topic.rpartition("/")[2]
            if name not in schemas.NAMES:
                continue  # the daemons' own `link` probes
            value = m.payload if name == "status" else m.json()
            assert schemas.errors(name, value) == [], (name, m.payload)
            by_topic[name] = by_topic.get(name, 0) + 1
        assert set(by_topic) == set(schemas.NAMES), by_topic
        assert by_topic["cmd_vel"] == by_topic["command"]
    finally:
        rec.close()
