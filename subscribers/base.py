"""A subscriber that consumes gesturepilot commands safely (DESIGN.md safety chain, step 6)."""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)

STOP = "stop"


class SafeSubscriber:
    """Subscribes to `<prefix>/<device_id>/{command,status}` and drives a vehicle through `act`.

    Safety rules, whatever the daemon does:
    - stopped at start-up, until the first fresh command arrives;
    - stop when no command arrived within `timeout` seconds (the daemon repeats held commands);
    - stop when `status` turns `offline` (the daemon's goodbye or its Last Will);
    - drop duplicate or out-of-order `seq` and malformed payloads, with a logged warning;
    - with `max_age`, drop commands whose capture `ts` is older than that (needs synced clocks).

    Subclasses implement `act(command, message)`; it is called on every change of command,
    with `command == "stop"` for stops of any origin.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 1883,
        device_id: str = "+",
        prefix: str = "gesturepilot",
        timeout: float = 1.0,
        max_age: float | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.root = f"{prefix}/{device_id}"
        self.timeout = timeout
        self.max_age = max_age
        self.current = STOP
        self.reason = "start-up"
        self.accepted = 0
        self.rejected = 0
        self._last_seq: dict[str, int] = {}
        self._last_command_at = 0.0
        self._lock = threading.RLock()
        self._halt = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.on_connect = self._on_connect
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

    def start(self, wait: float = 5.0) -> SafeSubscriber:
        """Connect, subscribe (waiting up to `wait` s) and start the timeout watchdog."""
        self._client.connect_async(self.host, self.port, keepalive=10)
        self._client.loop_start()
        self._watchdog.start()
        self._subscribed.wait(wait)
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
                self.act(STOP, {"command": STOP, "reason": reason})

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(f"{self.root}/command", 0), (f"{self.root}/status", 1)])

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.stop("broker connection lost")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        root, _, name = msg.topic.rpartition("/")
        if name == "status":
            self._on_status(root, msg.payload.decode(errors="replace"))
        elif name == "command":
            self._on_command(root, msg.payload)

    def _on_status(self, root: str, status: str) -> None:
        with self._lock:
            self._last_seq.pop(root, None)  # a restarted daemon starts a new sequence
        if status != "online":
            self.stop(f"daemon {status}")

    def _on_command(self, root: str, payload: bytes) -> None:
        message = parse_command(payload)
        with self._lock:
            if message is None:
                self.rejected += 1
                log.warning("malformed command ignored: %r", payload[:200])
                return
            seq = message["seq"]
            last = self._last_seq.get(root)
            if last is not None and seq <= last:
                self.rejected += 1
                log.warning(
                    "command seq %d after %d dropped (duplicate or out of order)", seq, last
                )
                return
            if self.max_age is not None and time.time() - message["ts"] > self.max_age:
                self.rejected += 1
                log.warning(
                    "stale command dropped (captured %.1f s ago)", time.time() - message["ts"]
                )
                return
            self._last_seq[root] = seq
            self._last_command_at = time.monotonic()
            self.accepted += 1
            command = message["command"]
            if command != self.current:
                self.current, self.reason = command, "command"
                self.act(command, message)

    def _watch(self) -> None:
        while not self._halt.wait(min(0.05, self.timeout / 4)):
            with self._lock:
                idle = time.monotonic() - self._last_command_at
                if self.current != STOP and idle > self.timeout:
                    self.stop(f"no command for {idle:.1f} s")

    def __enter__(self) -> SafeSubscriber:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def parse_command(payload: bytes) -> dict[str, Any] | None:
    """A command payload as a dict, or None when it is not a well-formed command."""
    try:
        message = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(message, dict):
        return None
    command, seq, ts = message.get("command"), message.get("seq"), message.get("ts")
    if not isinstance(command, str) or not command:
        return None
    if not isinstance(seq, int) or isinstance(seq, bool):
        return None
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return None
    return message


def connection_args(description: str | None, timeout: float) -> argparse.ArgumentParser:
    """The command-line options every example subscriber shares (broker, device, timeout)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--device", default="+", help="device_id to follow (default: any)")
    parser.add_argument(
        "--timeout", type=float, default=timeout, help="stop after this long without a command"
    )
    return parser


def serve(subscriber: SafeSubscriber) -> int:
    """Run a subscriber until Ctrl-C; it stops the vehicle on the way out."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with subscriber:
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0
