"""A subscriber that consumes gesturepilot commands safely (DESIGN.md safety chain, 6 and 7)."""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.clock import SYSTEM_CLOCK, Clock
from edge.closing import Started
from edge.link import schemas
from edge.link.probe import send_at_once
from subscribers.freshness import Freshness, Sequence, parse_command
from subscribers.options import connection_args, connection_kwargs, serve, valid_device_id

log = logging.getLogger(__name__)

STOP = "stop"
MAX_STATUS = 64  # bytes; `online` / `offline`

__all__ = [
    "STOP",
    "SafeSubscriber",
    "connection_args",
    "connection_kwargs",
    "parse_command",
    "serve",
]


class SafeSubscriber(Started):
    """Subscribes to `<prefix>/<device_id>/{command,status}` and drives a vehicle through `act`.

    Safety rules, whatever the daemon, the broker or anyone else on the broker does:
    - stopped at start-up, until the first fresh command arrives;
    - stop when no command arrived within `timeout` seconds (the daemon repeats held commands);
    - stop when `status` turns `offline` (the daemon's goodbye or its Last Will);
    - execute only fresh commands: a command arriving more than `max_age` later than the
      fastest delivery seen is dropped, so a burst released by a hung broker never moves the
      vehicle, with or without synchronised clocks (subscribers.freshness);
    - ignore retained commands (the daemon never retains one), malformed, oversized or deeply
      nested payloads, payloads that fail the contract's JSON Schema (edge.link.schemas),
      non-finite or implausible `ts`, duplicate or out-of-order `seq`; no one
      message (a huge `seq`, a forged `status`) locks the real daemon's commands out for more
      than ~`SETTLE` s;
    - an exception in any callback (or in `act`) is caught, logged and counted in `errors`:
      the network thread never dies.

    Subclasses implement `act(command, message)`; it is called on every change of command,
    with `command == "stop"` for stops of any origin.
    """

    def __init__(
        self,
        host: str,
        port: int,
        device_id: str,
        prefix: str = "gesturepilot",
        timeout: float = 1.0,
        max_age: float = 0.5,
        max_skew: float = 300.0,
        clock: Clock = SYSTEM_CLOCK,
        username: str = "",
        password: str = "",
        tls_ca: str = "",
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        if not valid_device_id(device_id):
            raise ValueError(f"device_id {device_id!r}: name one daemon (no wildcards)")
        self.host, self.port = host, port
        self.root = f"{prefix}/{device_id}"
        self.timeout = timeout
        self.max_age = max_age
        self.current = STOP
        self.reason = "start-up"
        self.accepted = 0
        self.rejected = 0
        self.errors = 0
        self.rejections: Counter[str] = Counter()
        self._clock = clock
        self._freshness = Freshness(max_age, max_skew)
        self._sequence = Sequence()
        self._last_command_at = float("-inf")
        self._lock = threading.RLock()
        self._halt = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.suppress_exceptions = True  # a backstop: our callbacks catch their own
        send_at_once(self._client)  # its PUBACKs and the broker's replies leave at once
        if username:
            self._client.username_pw_set(username, password or None)
        if tls_ca:
            self._client.tls_set(
                ca_certs=tls_ca, certfile=tls_cert or None, keyfile=tls_key or None
            )
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._connect_problem = ""  # the last reason logged: each new one is logged once
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._watchdog = threading.Thread(
            target=self._watch, name="subscriber-watchdog", daemon=True
        )

    def act(self, command: str, message: dict[str, Any]) -> None:
        """Drive the vehicle: `command` is a command name or "stop". Override this."""
        raise NotImplementedError

    def tick(self, now: float) -> None:
        """Called about every 50 ms under the lock with the monotonic time; override for timers."""

    def start(self, wait: float = 5.0) -> SafeSubscriber:
        """Connect, subscribe (waiting up to `wait` s) and start the timeout watchdog."""
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._client.connect_async(self.host, self.port, keepalive=5)
        self._client.loop_start()
        self._watchdog.start()
        if not self._subscribed.wait(wait):
            log.warning(
                "not subscribed to %s/# after %.0f s (broker %s:%d unreachable?); "
                "stopped, retrying",
                self.root,
                wait,
                self.host,
                self.port,
            )
        return self

    def close(self) -> None:
        self._halt.set()
        self.stop("shutdown")
        self._client.disconnect()
        self._client.loop_stop()

    def stop(self, reason: str) -> None:
        """Stop the vehicle (once) and remember why."""
        with self._lock:
            if self.current != STOP:
                log.info("stop (%s)", reason)
                self.current, self.reason = STOP, reason
                self._act(STOP, {"command": STOP, "reason": reason})

    def handle(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """One message from the broker (what the MQTT thread calls); never raises."""
        try:
            name = topic.rpartition("/")[2]
            if not topic.startswith(self.root + "/"):
                self._reject("foreign topic", topic)
            elif name == "status":
                self._on_status(payload)
            elif name == "command":
                self._on_command(payload, retain)
        except Exception:
            self.errors += 1
            log.exception("error handling a message on %r (ignored)", topic[:200])

    def _act(self, command: str, message: dict[str, Any]) -> None:
        try:
            self.act(command, message)
        except Exception:
            self.errors += 1
            log.exception("act(%r) failed", command)

    def _reject(self, why: str, detail: object) -> None:
        self.rejected += 1
        self.rejections[why] += 1
        log.warning("%s: %s", why, detail)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        try:
            if reason.is_failure:
                log.error("broker refused the connection: %s", reason)
                return
            if self._connect_problem:
                log.info("connected to the broker %s:%d", self.host, self.port)
                self._connect_problem = ""
            # retain-as-published: a retained command shows as one even when it arrives live
            options = SubscribeOptions(qos=1, retainAsPublished=True)
            client.subscribe([(f"{self.root}/command", options), (f"{self.root}/status", options)])
        except Exception:
            self.errors += 1
            log.exception("on_connect failed")

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        exc = sys.exc_info()[1]  # paho calls this from inside its `except OSError`
        why = f"{type(exc).__name__}: {exc}" if exc else "unknown reason"
        if why != self._connect_problem:
            self._connect_problem = why
            log.warning(
                "cannot connect to the broker %s:%d (%s); retrying", self.host, self.port, why
            )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        try:
            self.stop("broker connection lost")
        except Exception:
            self.errors += 1
            log.exception("on_disconnect failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.handle(msg.topic, bytes(msg.payload), bool(msg.retain))

    def _on_status(self, payload: bytes) -> None:
        status = payload[:MAX_STATUS].decode(errors="replace").strip()
        if status and not schemas.is_valid("status", status):
            self._reject("status fails the schema", repr(status))  # counted; still a stop
        # Only ever a stop: "online" resets nothing (anyone could publish it), and the next
        # fresh command after a forged "offline" moves the vehicle again.
        if status != "online":
            self.stop(f"daemon {status or 'status cleared'}"[:80])

    def _on_command(self, payload: bytes, retain: bool) -> None:
        received, wall = self._clock.monotonic(), self._clock.time()
        if retain:  # the daemon never retains a command: someone else's, or a stale one
            self._reject("retained command ignored", repr(payload[:80]))
            return
        message = parse_command(payload)
        with self._lock:
            if message is None:
                self._reject("malformed command ignored", repr(payload[:80]))
                return
            problems = schemas.errors("command", message)
            if problems:
                self._reject("command fails the schema", "; ".join(problems[:3]))
                return
            seq, ts = message["seq"], message["ts"]
            stale = self._freshness.judge(ts, received, wall)
            if stale is not None:
                self._reject("stale command dropped", stale)
                return
            out_of_order = self._sequence.judge(seq, received)
            if out_of_order is not None:
                self._reject("command dropped", out_of_order)
                return
            self._freshness.learn(ts, received)
            self._sequence.commit(seq)
            self._last_command_at = received
            self.accepted += 1
            command = message["command"]
            if command != self.current:
                self.current, self.reason = command, "command"
                self._act(command, message)

    def _watch(self) -> None:
        while not self._halt.wait(min(0.05, self.timeout / 4)):
            try:
                with self._lock:
                    idle = self._clock.monotonic() - self._last_command_at
                    if self.current != STOP and idle > self.timeout:
                        self.stop(f"no command for {idle:.1f} s")
                    self.tick(self._clock.monotonic())
            except Exception:
                self.errors += 1
                log.exception("watchdog check failed")
