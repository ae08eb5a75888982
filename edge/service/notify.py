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

    def __init__(
        self, address: str | None, status_interval: float = 5.0, watchdog_interval: float = 0.0
    ) -> None:
        """Open the datagram socket when `address` is set.

        Args:
            address: $NOTIFY_SOCKET (a path, or `@name` in the abstract namespace); None or
                empty makes every method a no-op.
            status_interval: seconds between STATUS= updates sent with the watchdog pings.
            watchdog_interval: at most one WATCHDOG=1 per this many seconds (0: every frame).
        """
        self._address = address
        self._sock: socket.socket | None = None
        self._status_interval = status_interval
        self._watchdog_interval = watchdog_interval
        self._last_status = float("-inf")
        self._last_watchdog = float("-inf")
        if address:
            if address.startswith("@"):  # abstract namespace socket
                address = "\0" + address[1:]
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._target = address

    @classmethod
    def from_env(cls) -> SystemdNotifier:
        """The notifier systemd asked for: $NOTIFY_SOCKET, pinging at 1/4 of $WATCHDOG_USEC.

        Returns:
            A notifier; a no-op one when the process was not started by systemd. Without a
            watchdog (no WATCHDOG_USEC, or WATCHDOG_PID naming another process) it pings once
            a second, which systemd ignores.
        """
        interval = 1.0
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            interval = min(int(usec) / 4e6, 1.0)
        return cls(os.environ.get("NOTIFY_SOCKET"), watchdog_interval=interval)

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
        self._last_status = float("-inf")  # the next frame's ping brings the fps status

    def stopping(self) -> None:
        self.send("STOPPING=1\nSTATUS=stopping")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def on_frame(self, result: FrameResult) -> None:
        """Observer hook: a frame was processed, so the loop is alive (WATCHDOG=1, STATUS=)."""
        if self._sock is None:
            return
        now = time.monotonic()
        if now - self._last_watchdog < self._watchdog_interval:
            return
        self._last_watchdog = now
        message = "WATCHDOG=1"
        if now - self._last_status >= self._status_interval:
            self._last_status = now
            gesture = result.gesture or "none"
            message += f"\nSTATUS={result.state}: {result.fps:.1f} fps, gesture {gesture}"
        self.send(message)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
