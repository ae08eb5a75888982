"""A private mosquitto on a free loopback port, for `make demo` and the tests."""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from edge.closing import Started

log = logging.getLogger(__name__)

MOSQUITTO_PATHS = (
    "/usr/sbin/mosquitto",
    "/usr/local/sbin/mosquitto",
    "/opt/homebrew/sbin/mosquitto",
)


def find_mosquitto() -> str:
    """The mosquitto executable.

    Raises:
        FileNotFoundError: mosquitto is not installed (`make mosquitto` installs it).
    """
    found = shutil.which("mosquitto") or next(
        (p for p in MOSQUITTO_PATHS if Path(p).is_file()), None
    )
    if not found:
        raise FileNotFoundError("mosquitto is not installed; run `make mosquitto`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalBroker(Started):
    """mosquitto listening on 127.0.0.1:`port` (anonymous, no persistence) until closed."""

    def __init__(
        self, port: int | None = None, extra_conf: str = "", anonymous: bool = True
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.anonymous = anonymous
        self._dir = tempfile.TemporaryDirectory(prefix="gp-mosquitto-")
        self._proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def pause(self) -> None:
        """SIGSTOP: a hung broker (its sockets stay open, nothing is read or answered)."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the broker (a crash); `start()` brings it back on the same port."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def start(self, timeout: float = 10.0) -> LocalBroker:
        """Start mosquitto and wait until it accepts connections.

        Raises:
            RuntimeError: mosquitto exited or did not listen within `timeout`.
        """
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} {self.host}\npersistence false\nset_tcp_nodelay true\n"
            f"user {getpass.getuser()}\n"  # as root, stay root: the files are in private dirs
            f"allow_anonymous {'true' if self.anonymous else 'false'}\n" + self.extra_conf
        )
        log_path = Path(self._dir.name) / "mosquitto.log"
        self._proc = subprocess.Popen(
            [find_mosquitto(), "-c", str(conf)],
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {log_path.read_text()[-500:]}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                log.info("mosquitto on %s:%d", self.host, self.port)
                return self
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"mosquitto did not listen on port {self.port}")

    def close(self) -> None:
        if self._proc is not None:
            self.resume()  # a paused broker cannot act on SIGTERM
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self._dir.cleanup()
