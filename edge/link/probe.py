"""Is the broker still answering? A QoS-1 probe, its acknowledgement, and duplicate daemons."""

# A socket to a hung broker accepts writes for a long time, so "connected" says little. The
# publisher therefore sends a small QoS-1 probe to `<root>/link` every `link_timeout / 3` s and
# counts the link as confirmed only while a PUBACK came back within `link_timeout`; commands are
# dropped (and counted) while it is not. The probes name this daemon's instance, and the daemon
# reads its own `<root>/link`: a probe from another instance is a second daemon with the same
# `device_id`, and the one that started later yields (`DuplicateDevice`, exit 78) instead of
# fighting the other forever. `ConnectionProblems` logs why connecting fails, once per reason.

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.clock import Clock
from edge.config import ConfigError

log = logging.getLogger(__name__)

MAX_PROBE = 512  # bytes of a probe payload read from the broker
FLAP_COUNT, FLAP_WINDOW = 3, 60.0  # this many lost connections in this many seconds: say why


class DuplicateDevice(ConfigError):
    """Another daemon publishes under this device_id; this one started later and yields."""


@dataclass(frozen=True, order=True)
class Instance:
    """One run of a daemon; the earlier `started` (then the smaller id) keeps the device id."""

    started: float  # Unix seconds
    id: str

    @classmethod
    def new(cls, started: float) -> Instance:
        return cls(started, f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")

    def payload(self) -> str:
        return json.dumps({"instance": self.id, "started": self.started})

    @classmethod
    def parse(cls, payload: bytes) -> Instance | None:
        if len(payload) > MAX_PROBE or payload.count(b"{") + payload.count(b"[") > 2:
            return None
        try:
            data = json.loads(payload)
            return cls(float(data["started"]), str(data["instance"]))
        except (ValueError, TypeError, KeyError, RecursionError):
            return None


class LinkProbe:
    """Sends the probes on its own thread and keeps the time of the last acknowledgement."""

    def __init__(
        self,
        client: mqtt.Client,
        topic: str,
        instance: Instance,
        timeout: float,
        clock: Clock,
        connected: Callable[[], bool],
    ) -> None:
        self.timeout = timeout
        self.interval = timeout / 3
        self.last_ack = float("-inf")
        self.losses = 0  # times the link went from confirmed to unconfirmed
        self.duplicate: Instance | None = None  # a later instance seen (it will yield)
        self.yield_to: Instance | None = None  # an earlier instance seen: this one yields
        self._client, self._topic, self._instance = client, topic, instance
        self._clock, self._connected = clock, connected
        self._confirmed = False
        self._halt = threading.Event()
        self._props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho
        self._props.MessageExpiryInterval = max(1, round(timeout * 2))
        self._thread = threading.Thread(target=self._run, name="mqtt-link-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():  # a daemon thread: never hold up a shutdown for it
            self._thread.join(0.1)

    def acked(self) -> None:
        """The broker answered (CONNACK, or a PUBACK of ours)."""
        self.last_ack = self._clock.monotonic()

    def confirmed(self, now: float) -> bool:
        """Connected, and the broker acknowledged something within `timeout`."""
        ok = self._connected() and now - self.last_ack <= self.timeout
        if ok != self._confirmed:
            self._confirmed = ok
            if ok:
                log.info("MQTT link confirmed: the broker acknowledges again")
            elif self._connected():
                self.losses += 1
                log.warning(
                    "MQTT link unconfirmed: no broker acknowledgement for %.1f s "
                    "(broker hung or network gone); commands are dropped until it answers",
                    now - self.last_ack,
                )
        return ok

    def on_probe(self, payload: bytes) -> None:
        """A probe read back from `<root>/link`: ours, or another daemon's."""
        other = Instance.parse(payload)
        if other is None or other.id == self._instance.id:
            return
        if other < self._instance:
            if self.yield_to is None:
                log.error(
                    "another daemon (instance %s, started earlier) publishes under this "
                    "device_id: this one (%s) stops; give each device its own [mqtt] device_id",
                    other.id,
                    self._instance.id,
                )
            self.yield_to = other
        elif self.duplicate != other:
            self.duplicate = other
            log.error(
                "another daemon (instance %s) started with this device_id; it yields to this "
                "one (%s); give each device its own [mqtt] device_id",
                other.id,
                self._instance.id,
            )

    def _run(self) -> None:
        while not self._halt.is_set():
            started = self._clock.monotonic()
            if self._connected():
                self._probe()
                self.confirmed(self._clock.monotonic())
            self._halt.wait(max(0.0, self.interval - (self._clock.monotonic() - started)))

    def announce(self) -> None:
        """One probe now, unacknowledged (on connect, from the network thread)."""
        self._client.publish(self._topic, self._instance.payload(), qos=1, properties=self._props)

    def _probe(self) -> None:
        info = self._client.publish(
            self._topic, self._instance.payload(), qos=1, properties=self._props
        )
        try:
            info.wait_for_publish(self.interval)
        except (RuntimeError, ValueError):  # not connected any more
            return
        if info.is_published():
            self.acked()


class ConnectionProblems:
    """Connection problems, logged once per distinct reason (reconnects repeat them)."""

    def __init__(self, clock: Clock, client_id: str) -> None:
        self.last = ""
        self._clock, self._client_id = clock, client_id
        self._losses: list[float] = []  # monotonic times of lost connections

    @property
    def refused(self) -> bool:
        return self.last.startswith("MQTT connection refused")

    def report(self, text: str) -> None:
        if text != self.last:
            self.last = text
            log.error("%s", text)
        else:
            log.debug("%s", text)

    def clear(self) -> None:
        self.last = ""

    def lost(self) -> None:
        """An established connection died: repeated deaths get named (session take-over)."""
        now = self._clock.monotonic()
        self._losses = [t for t in self._losses if now - t < FLAP_WINDOW] + [now]
        if len(self._losses) == FLAP_COUNT:
            log.error(
                "MQTT connection lost %d times in %.0f s: another client is probably taking "
                "over this session (same client id %s; mosquitto closes the older one), or the "
                "broker or network keeps failing",
                FLAP_COUNT,
                FLAP_WINDOW,
                self._client_id,
            )


def send_at_once(client: mqtt.Client) -> None:
    """Turn Nagle's algorithm off on the client's socket, at every (re)connect.

    paho leaves it on; a QoS 1 command published right after the gesture event of the same
    frame then waited for the broker's delayed ACK (~40 ms on loopback, measured by `make
    bench`'s end-to-end run) before it left the device.
    """

    def on_socket_open(client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    client.on_socket_open = on_socket_open
