"""Home Assistant MQTT discovery: retained configs for one device, and their removal."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge import __version__
from edge.config import MqttConfig

log = logging.getLogger(__name__)

QOS = 1  # discovery configs are retained and QoS 1 (gesture and stats themselves go at QoS 0)
SWEEP_WAIT = 0.5  # seconds `remove` listens for retained configs left by an older model


def _slug(text: str) -> str:
    """A node_id / object_id: Home Assistant allows only [a-zA-Z0-9_-] there."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text)


class HaDiscovery:
    """The discovery configs of one daemon, published under `<ha_prefix>/<component>/...`.

    Topics follow `<discovery_prefix>/<component>/<node_id>/<object_id>/config` with node_id
    `gesturepilot_<device_id>`: sensors for the current gesture, the last command and fps, and
    one `device_automation` trigger per label of the model (fires when that gesture starts).
    """

    def __init__(self, cfg: MqttConfig, labels: Sequence[str]) -> None:
        self.root = f"{cfg.prefix}/{cfg.device_id}"
        self.node = f"gesturepilot_{_slug(cfg.device_id)}"
        self.prefix = cfg.ha_prefix
        self.birth_topic = cfg.ha_birth_topic
        self.labels = tuple(labels)
        self.device = {
            "identifiers": [self.node],
            "name": f"gesturepilot {cfg.device_id}",
            "model": "gesturepilot",
            "manufacturer": "gesturepilot",
            "sw_version": __version__,
        }

    @property
    def status_topic(self) -> str:
        """Where Home Assistant publishes its birth (`online`) and will (`offline`) messages:
        `homeassistant/status` by default, whatever its discovery prefix (`ha_birth_topic`)."""
        return self.birth_topic

    def on_connect(self, client: mqtt.Client) -> None:
        """Publish the configs (retained: a broker may have lost them) and listen for HA's birth."""
        client.subscribe(self.status_topic, qos=1)
        self.publish(client)

    def on_status(self, client: mqtt.Client, msg: mqtt.MQTTMessage) -> None:
        """Home Assistant came online (it restarted, or its broker link did): publish the
        configs again, as HA's MQTT discovery asks. A retained `online` was there before this
        connect, whose publish already covered it."""
        if bytes(msg.payload).strip() == b"online" and not msg.retain:
            log.info("Home Assistant is online again: discovery configs re-published")
            self.publish(client)

    def topic(self, component: str, object_id: str) -> str:
        return f"{self.prefix}/{component}/{self.node}/{_slug(object_id)}/config"

    def _sensor(self, object_id: str, name: str, state: str, key: str, **extra: Any) -> Any:
        return {
            "name": name,
            "unique_id": f"{self.node}_{object_id}",
            "state_topic": f"{self.root}/{state}",
            "value_template": f"{{{{ value_json.{key} }}}}",
            "availability": [
                {
                    "topic": f"{self.root}/status",
                    "payload_available": "online",
                    "payload_not_available": "offline",
                }
            ],
            "device": self.device,
            **extra,
        }

    def configs(self) -> dict[str, dict[str, Any]]:
        """Discovery topic -> config payload, for every entity and trigger."""
        out = {
            self.topic("sensor", "gesture"): self._sensor(
                "gesture", "Gesture", "gesture", "gesture", icon="mdi:hand-back-right"
            ),
            self.topic("sensor", "command"): self._sensor(
                "command", "Last command", "command", "command", icon="mdi:steering"
            ),
            self.topic("sensor", "fps"): self._sensor(
                "fps", "FPS", "stats", "fps", unit_of_measurement="fps", state_class="measurement"
            ),
        }
        for label in self.labels:
            out[self.topic("device_automation", f"gesture_{label}")] = {
                "automation_type": "trigger",
                "type": "button_short_press",
                "subtype": label,
                "topic": f"{self.root}/gesture",  # sent on every change of the gesture
                "value_template": "{{ value_json.gesture }}",
                "payload": label,
                "qos": 0,
                "device": self.device,
            }
        return out

    def publish(self, client: mqtt.Client) -> None:
        """Publish every config, retained at QoS 1 (called on each connect)."""
        configs = self.configs()
        for topic, payload in configs.items():
            client.publish(topic, json.dumps(payload), qos=QOS, retain=True)
        log.info("Home Assistant discovery: %d configs under %s/", len(configs), self.prefix)


def remove(cfg: MqttConfig, labels: Sequence[str], timeout: float = 5.0) -> int:
    """Clear this device's discovery configs (empty retained payloads); returns how many.

    Clears the configs of `labels` and every other retained config under this device's node_id
    (triggers of an earlier model's labels).

    Raises:
        ConnectionError: the broker cannot be reached or refuses the connection.
    """
    ha = HaDiscovery(cfg, labels)
    topics = set(ha.configs())
    connected = threading.Event()
    refused: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if cfg.username:
        client.username_pw_set(cfg.username, cfg.password or None)
    if cfg.tls_ca:
        client.tls_set(
            ca_certs=cfg.tls_ca, certfile=cfg.tls_cert or None, keyfile=cfg.tls_key or None
        )

    def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        else:
            c.subscribe(f"{cfg.ha_prefix}/+/{ha.node}/+/config", qos=QOS)
        connected.set()

    def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.retain and msg.payload:
            topics.add(msg.topic)

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(cfg.host, cfg.port, keepalive=cfg.keepalive)
    except OSError as exc:
        raise ConnectionError(f"MQTT cannot connect to {cfg.host}:{cfg.port}: {exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(timeout) or refused:
            why = refused[0] if refused else "no answer"
            raise ConnectionError(f"MQTT {cfg.host}:{cfg.port} refused the connection: {why}")
        time.sleep(SWEEP_WAIT)  # retained configs arrive right after the SUBACK
        infos = [client.publish(t, b"", qos=QOS, retain=True) for t in sorted(topics)]
        for info in infos:
            with contextlib.suppress(RuntimeError, ValueError):  # lost meanwhile: below
                info.wait_for_publish(timeout)
        if not all(info.is_published() for info in infos):
            raise ConnectionError(f"MQTT {cfg.host}:{cfg.port} did not acknowledge the removal")
    finally:
        client.disconnect()
        client.loop_stop()
    log.info("Home Assistant discovery: cleared %d configs under %s/", len(topics), cfg.ha_prefix)
    return len(topics)


def add_parser(sub: Any) -> None:
    """`gesture-edge ha-remove --config FILE`."""
    p = sub.add_parser("ha-remove", help="remove this device's Home Assistant discovery configs")
    p.add_argument("--config", required=True, type=Path, help="the daemon's TOML config")


def cmd_remove(args: argparse.Namespace) -> int:
    """`ha-remove`: clear the retained discovery configs of the config's device (1 if it fails)."""
    from edge.config import load_config
    from edge.model.artifact import ModelError, read_meta

    cfg = load_config(args.config)
    logging.basicConfig(
        level=args.log_level or cfg.log.level, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        labels: Sequence[str] = read_meta(cfg.model.path).labels
    except ModelError:
        labels = ()  # the sweep still finds the retained triggers
    try:
        remove(cfg.mqtt, labels)
    except ConnectionError as exc:
        log.error("%s", exc)
        return 1
    return 0
