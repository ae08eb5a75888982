"""All MQTT in one class: Last Will, retained status, expiring commands, no stale queue."""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import sys
import threading
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.clock import SYSTEM_CLOCK, Clock
from edge.closing import Started
from edge.config import MqttConfig
from edge.link import cmd_vel
from edge.link.ha_discovery import HaDiscovery
from edge.link.probe import ConnectionProblems, DuplicateDevice, Instance, LinkProbe, send_at_once
from edge.types import Command

log = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"
CLOSE_TIMEOUT = 0.5  # seconds `close()` waits for the broker to acknowledge `offline`

__all__ = ["OFFLINE", "ONLINE", "DuplicateDevice", "Publisher"]


def _expiry(seconds: int) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho
    props.MessageExpiryInterval = seconds
    return props


class Publisher(Started):
    """Publishes under `<prefix>/<device_id>/`: status, command, gesture, stats.

    The Last Will (`status=offline`, retained) is set before connecting; `status=online` is
    published (retained) on every successful connect. Commands, gesture and stats go at QoS 0
    with a Message Expiry (paho re-sends unacknowledged QoS>0 messages after a reconnect, late),
    and only while the link is confirmed (edge.link.probe): a publish while disconnected or while
    the broker does not answer is a counted no-op, so nothing stale is queued or written into a
    dead socket. Each run connects with its own client id, so a second daemon with the same
    `device_id` cannot kick this one off; it is detected instead (`duplicate`, `yield_to`).
    """

    def __init__(
        self, cfg: MqttConfig, clock: Clock = SYSTEM_CLOCK, labels: Sequence[str] = ()
    ) -> None:
        self.cfg = cfg
        self.root = f"{cfg.prefix}/{cfg.device_id}"
        self.dropped = 0
        self.dropped_unconfirmed = 0
        self.reconnects = 0
        self.instance = Instance.new(clock.time())
        self.seq = int(clock.time() * 1000)  # increases across restarts too
        self._clock = clock
        self._connected = threading.Event()
        self._closing = False
        self._ever_connected = False
        self._lock = threading.Lock()
        self._command_props = _expiry(cfg.command_expiry)
        self._event_props = _expiry(cfg.event_expiry)
        self._ha = HaDiscovery(cfg, labels) if cfg.ha_discovery else None  # labels: triggers
        # one client id per run: a second daemon cannot take this one's session over
        self.client_id = f"gesturepilot-{cfg.device_id}-{self.instance.id.rsplit(':', 1)[-1]}"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        client.suppress_exceptions = True  # a failing callback must not kill the network thread
        send_at_once(client)  # no Nagle: a command right after a gesture event waits for nothing
        client.will_set(self.topic("status"), OFFLINE, qos=1, retain=True)
        backoff: Any = (min(0.5, cfg.reconnect_max), cfg.reconnect_max)  # floats work (typed int)
        client.reconnect_delay_set(*backoff)  # capped: back within ~2 s of the broker's return
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password or None)
        if cfg.tls_ca:
            client.tls_set(
                ca_certs=cfg.tls_ca, certfile=cfg.tls_cert or None, keyfile=cfg.tls_key or None
            )
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self.problems = ConnectionProblems(clock, self.client_id)
        self.link = LinkProbe(
            client,
            self.topic("link"),
            self.instance,
            cfg.link_timeout,
            clock,
            self._connected.is_set,
        )

    def topic(self, name: str) -> str:
        return f"{self.root}/{name}"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def yield_to(self) -> Instance | None:
        """An earlier daemon with this device_id, when one was seen: this one must stop."""
        return self.link.yield_to

    def confirmed(self) -> bool:
        """Connected and the broker acknowledged within `link_timeout`."""
        return self.link.confirmed(self._clock.monotonic())

    def start(self) -> None:
        """Connect in the background; paho's loop thread reconnects with capped backoff."""
        log.info(
            "MQTT %s:%d%s%s, topics %s/#, keepalive %d s, instance %s",
            self.cfg.host,
            self.cfg.port,
            " TLS" if self.cfg.tls_ca else "",
            f" as {self.cfg.username}" if self.cfg.username else "",
            self.root,
            self.cfg.keepalive,
            self.instance.id,
        )
        self._client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive)
        self._client.loop_start()
        self.link.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:  # refused (bad credentials, not authorised): not connected
            self.problems.report(f"MQTT connection refused by the broker: {reason}")
            return
        self.problems.clear()
        self.link.acked()
        client.subscribe(self.topic("link"), qos=0)  # duplicate device ids (edge.link.probe)
        self.link.announce()  # at once: a daemon already there hears of this one
        client.publish(self.topic("status"), ONLINE, qos=self.cfg.qos, retain=True)
        if self._ha is not None:  # configs on every connect, and on every HA birth message
            self._ha.on_connect(client)
        if self._ever_connected:
            self.reconnects += 1
        self._ever_connected = True
        self._connected.set()
        log.info("MQTT connected")

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        exc = sys.exc_info()[1]  # paho calls this from inside its `except OSError`
        why = f"{type(exc).__name__}: {exc}" if exc else "unknown reason"
        if self.cfg.tls_ca and isinstance(exc, (ConnectionResetError, ssl.SSLEOFError)):
            why += " during the TLS handshake (is this port a TLS listener?)"
        self.problems.report(f"MQTT cannot connect to {self.cfg.host}:{self.cfg.port}: {why}")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if self._closing:
            log.debug("MQTT disconnected (%s)", reason)
            return
        source = "the broker" if getattr(flags, "is_disconnect_packet_from_server", False) else ""
        if was:
            log.warning(
                "MQTT disconnected (%s%s); publishes are dropped until reconnected",
                reason,
                f", sent by {source}" if source else "",
            )
            self.problems.lost()
        elif not self.problems.refused:
            self.problems.report(
                f"MQTT connection to {self.cfg.host}:{self.cfg.port} closed before the broker "
                f"accepted it ({reason}): a broker that does not answer, a TLS port reached "
                "without TLS, a TLS handshake the broker refused, or not an MQTT broker"
            )

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topic("link"):
            self.link.on_probe(bytes(msg.payload))
        elif self._ha is not None and msg.topic == self._ha.status_topic:
            self._ha.on_status(client, msg)

    def _publish(self, name: str, payload: str, props: Properties, force: bool = False) -> bool:
        if not self._connected.is_set():
            self.dropped += 1
            log.debug("not connected: dropped %s", name)
            return False
        if not force and not self.confirmed():
            self.dropped += 1
            self.dropped_unconfirmed += 1
            log.debug("link unconfirmed: dropped %s", name)
            return False
        info = self._client.publish(self.topic(name), payload, qos=0, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.dropped += 1
            return False
        return True

    def command(self, cmd: Command, force: bool = False) -> bool:
        """Publish a command with the next `seq`; False when dropped.

        Args:
            cmd: the command.
            force: write it even while the link is unconfirmed (the final `stop`: a late stop
                is harmless, a missing one is not).
        """
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
            sent = self._publish("command", json.dumps(payload), self._command_props, force)
            if sent:
                self.seq = seq
            if self.cfg.cmd_vel:  # ROS 2's Twist beside it: same timing and expiry
                twist = cmd_vel.payload(cmd.command, self.cfg)
                self._publish("cmd_vel", twist, self._command_props, force)
        log.info(
            "command %s (%s, %s)%s",
            cmd.command,
            cmd.gesture,
            cmd.reason,
            "" if sent else " DROPPED (link down or unconfirmed)",
        )
        return sent

    def gesture(self, gesture: str, confidence: float, ts: float) -> bool:
        payload = {"gesture": gesture, "confidence": round(confidence, 3), "ts": ts}
        return self._publish("gesture", json.dumps(payload), self._event_props)

    def stats(self, payload: dict[str, Any]) -> bool:
        link = {
            "publishes_dropped": self.dropped,
            "commands_dropped_unconfirmed": self.dropped_unconfirmed,
            "link_losses": self.link.losses,
            "reconnects": self.reconnects,
            "duplicate_device": self.link.duplicate.id if self.link.duplicate else None,
        }
        return self._publish("stats", json.dumps({**payload, **link}), self._event_props)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Publish `status=offline` (retained) within `timeout`, disconnect, stop the threads.

        When the broker does not acknowledge `offline` in time (hung, or the link is gone) the
        disconnect asks the broker to publish the Last Will instead (reason code 0x04), and a
        broker that never hears from us again publishes it after 1.5 x keepalive anyway.
        """
        self.link.stop()
        self._closing = True
        if self.link.yield_to is not None:  # the earlier daemon is online: say nothing for it
            log.info("yielding to instance %s: no offline status", self.link.yield_to.id)
            self._client.disconnect()
        elif self._connected.is_set():
            if not self.confirmed():  # the broker is not answering: do not wait long on it
                timeout = min(timeout, 0.2)
            info = self._client.publish(self.topic("status"), OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # lost meanwhile
                info.wait_for_publish(timeout)
            if info.is_published():
                log.info("status=offline published")
                self._client.disconnect()
            else:
                log.warning(
                    "status=offline not acknowledged within %.1f s; disconnecting with the "
                    "Last Will (the broker publishes offline when it reads this or times us out)",
                    timeout,
                )
                will = ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message")
                self._client.disconnect(reasoncode=will)
        else:
            log.warning("MQTT not connected at shutdown: the broker's Last Will reports offline")
            self._client.disconnect()
        self._connected.clear()
        self._client.loop_stop()
