"""Home Assistant discovery on a real mosquitto: retained configs, removal, off by default."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid

import pytest
from fixtures.broker import Recorder

from devtools.localbroker import LocalBroker, free_port
from edge.config import ConfigError, MqttConfig, parse_config
from edge.config.paths import default_model_path
from edge.link.ha_discovery import remove
from edge.link.publisher import Publisher
from edge.model.artifact import read_meta
from edge.service.cli import main
from edge.types import Command

LABELS = read_meta(default_model_path()).labels
TOPIC = re.compile(
    r"^homeassistant/(sensor|device_automation)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$"
)


def mqtt_cfg(broker: LocalBroker, **kw: object) -> MqttConfig:
    device = f"ha-{uuid.uuid4().hex[:8]}"
    return MqttConfig(host=broker.host, port=broker.port, device_id=device, **kw)  # type: ignore[arg-type]


def configs(rec: Recorder, count: int, timeout: float = 10.0) -> dict[str, dict]:
    """The first `count` non-empty configs the recorder got, by topic."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {m.topic: m for m in rec.messages if m.payload}
        if len(got) >= count:
            return {t: m.json() for t, m in got.items()}
        time.sleep(0.05)
    raise TimeoutError(f"{len(rec.messages)} of {count} configs")


def retained_under(broker: LocalBroker, topic: str, wait: float = 0.5) -> list[str]:
    """What a fresh subscriber receives as retained (non-empty) under `topic`."""
    rec = Recorder(broker, topic)
    time.sleep(wait)
    rec.close()
    return [m.topic for m in rec.messages if m.retain and m.payload]


def test_discovery_publishes_retained_configs_for_sensors_and_one_trigger_per_label(broker):
    cfg = mqtt_cfg(broker, ha_discovery=True)
    node = f"gesturepilot_{cfg.device_id}"
    rec = Recorder(broker, f"homeassistant/+/{node}/#")
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        got = configs(rec, 3 + len(LABELS))
        msgs = {m.topic: m for m in rec.messages}
        assert all(TOPIC.match(t) for t in got), list(got)
        assert all(m.qos == 1 for m in msgs.values())
        sensors = {t.split("/")[3]: c for t, c in got.items() if "/sensor/" in t}
        assert set(sensors) == {"gesture", "command", "fps"}
        real = {"gesture": "gesture", "command": "command", "fps": "stats"}
        for obj, c in sensors.items():
            assert {"name", "unique_id", "state_topic", "value_template", "availability"} <= set(c)
            assert c["state_topic"] == pub.topic(real[obj])
            assert c["availability"] == [
                {
                    "topic": pub.topic("status"),
                    "payload_available": "online",
                    "payload_not_available": "offline",
                }
            ]
            assert c["device"]["identifiers"] == [node] and c["device"]["model"] == "gesturepilot"
            assert c["device"]["sw_version"]
        assert sensors["fps"]["unit_of_measurement"] == "fps"
        assert len({c["unique_id"] for c in sensors.values()}) == 3
        triggers = [c for t, c in got.items() if "/device_automation/" in t]
        assert sorted(c["subtype"] for c in triggers) == sorted(LABELS)
        for c in triggers:
            assert c["automation_type"] == "trigger" and c["type"] == "button_short_press"
            assert c["topic"] == pub.topic("gesture") and c["payload"] == c["subtype"]
            assert c["device"]["identifiers"] == [node]
        # the value_templates read keys that the daemon's real payloads carry
        state = Recorder(broker, f"{pub.root}/#")
        assert pub.gesture(LABELS[1], 0.9, time.time())
        assert pub.command(Command("forward", LABELS[1], 0.9, time.time()))
        assert pub.stats({"fps": 12.5})
        payloads = {
            name: state.wait_for(lambda m, n=name: m.topic.endswith("/" + n)).json()
            for name in ("gesture", "command", "stats")
        }
        state.close()
        for c in [*sensors.values(), *triggers]:
            key = re.fullmatch(r"\{\{ value_json\.(\w+) \}\}", c["value_template"])
            topic = c.get("state_topic", c.get("topic", ""))
            assert key and key[1] in payloads[topic.rsplit("/", 1)[1]], c
        assert payloads["gesture"]["gesture"] == LABELS[1]  # what the LABELS[1] trigger matches
    rec.close()


def test_a_late_subscriber_gets_the_retained_configs_and_removal_clears_all_even_old_labels(broker):
    cfg = mqtt_cfg(broker, ha_discovery=True)
    node = f"gesturepilot_{cfg.device_id}"
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        time.sleep(0.5)
    late = retained_under(broker, f"homeassistant/+/{node}/#")
    assert len(late) == 3 + len(LABELS)
    # a trigger of an earlier model's label is swept too
    with Publisher(cfg, labels=(*LABELS, "thumbs_up")) as pub:
        assert pub.wait_connected(10)
        time.sleep(0.5)
    assert len(retained_under(broker, f"homeassistant/+/{node}/#")) == 4 + len(LABELS)
    assert remove(cfg, LABELS) == 4 + len(LABELS)
    assert retained_under(broker, f"homeassistant/+/{node}/#") == []


def test_ha_remove_command_clears_the_configured_devices_configs(broker, tmp_path):
    cfg = mqtt_cfg(broker, ha_discovery=True)
    node = f"gesturepilot_{cfg.device_id}"
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        time.sleep(0.5)
    assert retained_under(broker, f"homeassistant/+/{node}/#")
    conf = tmp_path / "edge.toml"
    conf.write_text(
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ndevice_id = "{cfg.device_id}"\n'
        "ha_discovery = true\n"
    )
    assert main(["ha-remove", "--config", str(conf)]) == 0
    assert retained_under(broker, f"homeassistant/+/{node}/#") == []


def test_with_discovery_off_nothing_is_published_under_the_prefix(broker):
    cfg = mqtt_cfg(broker)
    assert cfg.ha_discovery is False and cfg.ha_prefix == "homeassistant"
    rec = Recorder(broker, "homeassistant/#")
    status = Recorder(broker, f"gesturepilot/{cfg.device_id}/status")
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        status.wait_for(lambda m: m.payload == "online")
        time.sleep(0.5)
    status.close()
    rec.close()
    assert [m.topic for m in rec.messages if cfg.device_id in m.topic] == []


def test_configs_go_under_a_custom_ha_prefix(broker):
    cfg = mqtt_cfg(broker, ha_discovery=True, ha_prefix="ha/disc")
    rec = Recorder(broker, "ha/disc/#")
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        got = configs(rec, 3 + len(LABELS))
    rec.close()
    assert all(t.startswith("ha/disc/") and cfg.device_id in t for t in got)
    remove(cfg, LABELS)


@pytest.mark.parametrize("bad", ["home#", "home/+/x", "/homeassistant", "homeassistant/", ""])
def test_a_bad_ha_prefix_is_refused_at_load_naming_the_key(bad, tmp_path):
    with pytest.raises(ConfigError, match=r"\[mqtt\] ha_prefix"):
        parse_config({"mqtt": {"ha_prefix": bad}})
    conf = tmp_path / "bad.toml"
    conf.write_text(f'[mqtt]\nha_prefix = "{bad}"\n')
    assert main(["check-config", "--config", str(conf)]) == 78


def test_ha_discovery_must_be_a_boolean():
    with pytest.raises(ConfigError, match=r"\[mqtt\] ha_discovery"):
        parse_config({"mqtt": {"ha_discovery": "yes"}})


def test_uninstall_clears_the_configs_when_the_installed_config_enables_discovery(
    broker, tmp_path, repo_root
):
    cfg = mqtt_cfg(broker, ha_discovery=True)
    node = f"gesturepilot_{cfg.device_id}"
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        time.sleep(0.5)
    assert retained_under(broker, f"homeassistant/+/{node}/#")
    etc, venv = tmp_path / "etc/gesturepilot", tmp_path / "opt/gesturepilot/venv/bin"
    etc.mkdir(parents=True)
    venv.mkdir(parents=True)
    (venv / "gesture-edge").symlink_to(repo_root / ".venv/bin/gesture-edge")
    (etc / "mqtt_password").write_text("\n")
    (etc / "gesturepilot.toml").write_text(
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ndevice_id = "{cfg.device_id}"\n'
        "ha_discovery = true\n"
    )
    env = {**os.environ, "DESTDIR": str(tmp_path)}
    done = subprocess.run(
        ["sh", str(repo_root / "scripts/uninstall.sh")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "cleared" in done.stderr
    assert retained_under(broker, f"homeassistant/+/{node}/#") == []


def test_ha_remove_without_a_broker_fails_with_exit_1(tmp_path):
    conf = tmp_path / "edge.toml"
    conf.write_text(f'[mqtt]\nhost = "127.0.0.1"\nport = {free_port()}\n')
    assert main(["ha-remove", "--config", str(conf)]) == 1


def test_home_assistants_birth_message_makes_the_device_publish_its_configs_again(broker):
    cfg = mqtt_cfg(broker, ha_discovery=True)
    rec = Recorder(broker, f"homeassistant/+/gesturepilot_{cfg.device_id}/#")
    ha = Recorder(broker, "homeassistant/status")  # its client stands in for Home Assistant
    with Publisher(cfg, labels=LABELS) as pub:
        assert pub.wait_connected(10)
        count = 3 + len(LABELS)
        configs(rec, count)
        time.sleep(0.3)
        first = len(rec.messages)
        assert first == count
        ha._client.publish("homeassistant/status", "offline", qos=1).wait_for_publish(2)
        time.sleep(0.5)
        assert len(rec.messages) == first, "HA going offline asks for nothing"
        ha._client.publish("homeassistant/status", "online", qos=1).wait_for_publish(2)
        deadline = time.monotonic() + 5
        while len(rec.messages) < 2 * count and time.monotonic() < deadline:
            time.sleep(0.05)
        again = rec.messages[first:]
        assert {m.topic for m in again} == {m.topic for m in rec.messages[:first]}
        assert all(m.payload and m.qos == 1 for m in again)
    ha.close()
    rec.close()


def republished_after_birth(broker, cfg: MqttConfig, birth_topic: str) -> bool:
    """Whether a birth (`online`) on `birth_topic` makes the daemon publish its configs again."""
    rec = Recorder(broker, f"{cfg.ha_prefix}/+/gesturepilot_{cfg.device_id}/#")
    ha = Recorder(broker, birth_topic)  # its client stands in for Home Assistant
    try:
        with Publisher(cfg, labels=LABELS) as pub:
            assert pub.wait_connected(10)
            count = 3 + len(LABELS)
            configs(rec, count)
            time.sleep(0.3)
            first = len(rec.messages)
            ha._client.publish(birth_topic, "online", qos=1).wait_for_publish(2)
            deadline = time.monotonic() + 3
            while len(rec.messages) < first + count and time.monotonic() < deadline:
                time.sleep(0.05)
            return len(rec.messages) >= first + count
    finally:
        ha.close()
        rec.close()
        remove(cfg, LABELS)


def test_with_a_custom_discovery_prefix_a_birth_on_homeassistant_status_still_republishes(broker):
    # Home Assistant publishes its birth on homeassistant/status whatever its discovery prefix
    cfg = mqtt_cfg(broker, ha_discovery=True, ha_prefix="ha/disc")
    assert cfg.ha_birth_topic == "homeassistant/status"
    assert republished_after_birth(broker, cfg, "homeassistant/status")


def test_a_configured_birth_topic_is_the_one_the_daemon_listens_on(broker):
    cfg = mqtt_cfg(broker, ha_discovery=True, ha_birth_topic="hass/birth")
    assert republished_after_birth(broker, cfg, "hass/birth")
    assert not republished_after_birth(broker, cfg, "homeassistant/status")


@pytest.mark.parametrize("bad", ["", "homeassistant/#", "ha/+/status", "/ha/status", "ha/status/"])
def test_a_bad_birth_topic_is_refused_at_load_naming_the_key(bad, tmp_path):
    with pytest.raises(ConfigError, match=r"\[mqtt\] ha_birth_topic: .*homeassistant/status"):
        parse_config({"mqtt": {"ha_birth_topic": bad}})
    conf = tmp_path / "bad.toml"
    conf.write_text(f'[mqtt]\nha_birth_topic = "{bad}"\n')
    assert main(["check-config", "--config", str(conf)]) == 78
