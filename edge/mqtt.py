"""All MQTT in one class: Last Will, retained status, expiring commands, no stale queue."""

from __future__ import annotations

import json
import logging
import threading
import time
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config import MqttConfig
from edge.types import Command

log = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"


class Publisher:
    """Publishes under `<prefix>/<device_id>/`: status, command, gesture, stats.

    The Last Will (`status=offline`, retained) is set before connecting; `status=online` is
    published (retained) on every successful connect. While disconnected every publish is a
    counted no-op: nothing is queued, so a reconnect never delivers stale commands. Commands go
    out at QoS 0 for the same reason (paho re-sends unacknowledged QoS>0 messages after a
    reconnect) and carry a Message Expiry Interval so the broker never hands them out late.
    """

    def __init__(self, cfg: MqttConfig) -> None:
        self.cfg = cfg
        self.root = f"{cfg.prefix}/{cfg.device_id}"
        self.dropped = 0
        self.seq = int(time.time() * 1000)  # increases across restarts too
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._expiry = Properties(PacketTypes.PUBLISH)
        self._expiry.MessageExpiryInterval = cfg.command_expiry
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"gesturepilot-{cfg.device_id}",
            protocol=mqtt.MQTTv5,
        )
        client.will_set(self.topic("status"), OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password or None)
        if cfg.tls_ca:
            client.tls_set(
                ca_certs=cfg.tls_ca, certfile=cfg.tls_cert or None, keyfile=cfg.tls_key or None
            )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._client = client

    def topic(self, name: str) -> str:
        return f"{self.root}/{name}"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; paho's loop thread reconnects with backoff."""
        log.info(
            "MQTT %s:%d%s%s, topics %s/#",
            self.cfg.host,
            self.cfg.port,
            " TLS" if self.cfg.tls_ca else "",
            f" as {self.cfg.username}" if self.cfg.username else "",
            self.root,
        )
        self._client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:  # refused (bad credentials, not authorised): not connected
            log.error("MQTT connection refused: %s", reason)
            return
        client.publish(self.topic("status"), ONLINE, qos=1, retain=True)
        self._connected.set()
        log.info("MQTT connected")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            log.warning("MQTT disconnected: %s; publishes are dropped until reconnected", reason)
        self._connected.clear()

    def _publish(self, name: str, payload: str, qos: int, props: Properties | None = None) -> bool:
        if not self._connected.is_set():
            self.dropped += 1
            log.debug("not connected: dropped %s", name)
            return False
        info = self._client.publish(self.topic(name), payload, qos=qos, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.dropped += 1
            return False
        return True

    def command(self, cmd: Command) -> bool:
        """Publish a command with the next `seq`; False when dropped (disconnected)."""
        with self._lock:
            seq = self.seq + 1
            payload = {
                "command": cmd.command,
                "gesture": cmd.gesture,
                "confidence": round(cmd.confidence, 3),
                "seq": seq,
                "ts": cmd.ts,
                "reason": cmd.reason,  # gesture, repeat, release, deadman, stall, shutdown
            }
            sent = self._publish("command", json.dumps(payload), 0, self._expiry)
            if sent:
                self.seq = seq
        log.info(
            "command %s (%s, %s)%s",
            cmd.command,
            cmd.gesture,
            cmd.reason,
            "" if sent else " DROPPED",
        )
        return sent

    def gesture(self, gesture: str, confidence: float, ts: float) -> bool:
        payload = {"gesture": gesture, "confidence": round(confidence, 3), "ts": ts}
        return self._publish("gesture", json.dumps(payload), self.cfg.qos)

    def stats(self, payload: dict[str, Any]) -> bool:
        return self._publish(
            "stats", json.dumps({**payload, "publishes_dropped": self.dropped}), self.cfg.qos
        )

    def close(self, timeout: float = 0.5) -> None:
        """Publish `status=offline` (retained), disconnect and stop the network thread."""
        if self._connected.is_set():
            info = self._client.publish(self.topic("status"), OFFLINE, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.warning("could not publish status=offline; the Last Will covers it")
        self._connected.clear()
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Publisher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
