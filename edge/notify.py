"""systemd's sd_notify protocol, spoken directly over $NOTIFY_SOCKET (no libsystemd needed)."""

from __future__ import annotations

import logging
import os
import socket
import time

from edge.types import FrameResult

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Tells systemd READY, WATCHDOG, STATUS and STOPPING; a no-op when not run by systemd.

    The watchdog is fed from `on_frame`, i.e. only while frames are actually processed, so a
    stuck camera or a hung inference stops the pings and systemd restarts the service.
    """

    def __init__(self, address: str | None, status_interval: float = 5.0) -> None:
        self._address = address
        self._sock: socket.socket | None = None
        self._status_interval = status_interval
        self._last_status = 0.0
        if address:
            if address.startswith("@"):  # abstract namespace socket
                address = "\0" + address[1:]
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._target = address

    @classmethod
    def from_env(cls) -> SystemdNotifier:
        return cls(os.environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, message: str) -> None:
        """Send one notification; errors are logged, never raised (systemd may be gone)."""
        if self._sock is None:
            return
        try:
            self._sock.sendto(message.encode(), self._target)
        except OSError as exc:
            log.warning("sd_notify %r failed: %s", message.split("=")[0], exc)

    def ready(self, status: str = "running") -> None:
        self.send(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1\nSTATUS=stopping")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def on_frame(self, result: FrameResult) -> None:
        message = "WATCHDOG=1"
        now = time.monotonic()
        if now - self._last_status >= self._status_interval:
            self._last_status = now
            gesture = result.gesture or "none"
            message += f"\nSTATUS={result.state}: {result.fps:.1f} fps, gesture {gesture}"
        self.send(message)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
