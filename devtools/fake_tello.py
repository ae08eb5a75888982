"""A Tello on loopback: the SDK's UDP text protocol (`command`, `takeoff`, `rc a b c d`, `land`).

It answers like the drone: `ok` to control commands once in SDK mode (`command`), `error` to
anything before that or to a takeoff while flying / a land on the ground, a number to `battery?`,
nothing to `rc` (the real SDK does not answer rc). After `command` it streams state packets to
the sender's address on `state_port` (8890, where djitellopy listens), as the drone does. Every
datagram is recorded in `commands`, in order, with its arrival time.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import dataclass

from edge.closing import Started

STATE = (
    "mid:-1;x:0;y:0;z:0;mpry:0,0,0;pitch:0;roll:0;yaw:0;vgx:0;vgy:0;vgz:0;templ:60;temph:62;"
    "tof:{tof};h:{h};bat:87;baro:0.00;time:0;agx:0.00;agy:0.00;agz:-1000.00;\r\n"
)
CONTROL = {"command", "takeoff", "land", "emergency", "streamon", "streamoff", "keepalive"}


@dataclass(frozen=True)
class Received:
    text: str
    at: float  # time.monotonic()


_hosts = itertools.count(2)


def loopback_host() -> str:
    """A fresh 127.0.0.N: djitellopy files responses and state by the drone's address, so each
    fake drone in one process needs its own."""
    n = next(_hosts)
    return f"127.0.{n // 250}.{n % 250 + 2}"


class FakeTello(Started):
    """`with FakeTello() as t:` a drone at `t.host:t.port`; `t.sequence()` what it was told."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state_port: int = 8890) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.05)
        self.host, self.port = self._sock.getsockname()
        self.state_port = state_port
        self.commands: list[Received] = []
        self.sdk_mode = False
        self.flying = False
        self.rc = (0, 0, 0, 0)
        self._client: str | None = None
        self._cond = threading.Condition()
        self._halt = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name="fake-tello", daemon=True),
            threading.Thread(target=self._state, name="fake-tello-state", daemon=True),
        ]

    def start(self) -> FakeTello:
        for t in self._threads:
            t.start()
        return self

    def close(self) -> None:
        self._halt.set()
        for t in self._threads:
            t.join(1)
        self._sock.close()

    def sequence(self) -> list[str]:
        """Every command received, in order (rc repeats included)."""
        with self._cond:
            return [c.text for c in self.commands]

    def wait_for(self, text: str, timeout: float = 5.0) -> Received:
        """The first received command equal to `text`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for c in self.commands:
                    if c.text == text:
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {text!r}; got {[c.text for c in self.commands]}")
                self._cond.wait(left)

    def _answer(self, text: str) -> str | None:
        word = text.split(" ", 1)[0]
        if word == "command":
            self.sdk_mode = True
            return "ok"
        if not self.sdk_mode:
            return "error"
        if word == "rc":
            values = text.split()[1:]
            if len(values) == 4 and all(v.lstrip("-").isdigit() for v in values):
                a, b, c, d = (int(v) for v in values)
                self.rc = (a, b, c, d)
            return None
        if word == "takeoff":
            if self.flying:
                return "error"
            self.flying = True
            return "ok"
        if word in ("land", "emergency"):
            if not self.flying:
                return "error Not flying"
            self.flying, self.rc = False, (0, 0, 0, 0)
            return "ok"
        if word == "battery?":
            return "87"
        return "ok" if word in CONTROL else "unknown command: " + word

    def _serve(self) -> None:
        while not self._halt.is_set():
            try:
                data, addr = self._sock.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                return
            text = data.decode("utf-8", errors="replace").strip()
            with self._cond:
                self.commands.append(Received(text, time.monotonic()))
                self._client = addr[0]
                reply = self._answer(text)
                self._cond.notify_all()
            if reply is not None:
                self._sock.sendto(reply.encode(), addr)

    def _state(self) -> None:
        # from the command socket: the packets' source address is the drone's, as djitellopy
        # files state by the sender's address
        while not self._halt.wait(0.1):
            with self._cond:
                client, flying = (self._client if self.sdk_mode else None), self.flying
            if client is not None:
                packet = STATE.format(tof=80 if flying else 10, h=80 if flying else 0)
                try:
                    self._sock.sendto(packet.encode(), (client, self.state_port))
                except OSError:
                    return
