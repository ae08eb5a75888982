"""SystemdNotifier speaks sd_notify to a real AF_UNIX datagram socket, as systemd listens."""

from __future__ import annotations

import itertools
import os
import socket
import time

import numpy as np

from edge.service.notify import SystemdNotifier
from edge.types import Frame, FrameResult


def _result(fps: float = 12.5, gesture: str | None = "stop") -> FrameResult:
    frame = Frame(image=np.zeros((4, 4, 3), np.uint8), ts=time.time())
    return FrameResult(frame, None, None, gesture, 0.9, None, fps=fps)


def test_without_notify_socket_everything_is_a_noop(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier.from_env()
    assert not notifier.enabled
    notifier.ready()
    notifier.on_frame(_result())
    notifier.stopping()
    notifier.close()


def test_ready_status_and_stopping_reach_the_socket(notify_listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_listener.path))
    notifier = SystemdNotifier.from_env()
    assert notifier.enabled
    notifier.ready()
    notifier.stopping()
    ready = notify_listener.wait_for("READY", 2)
    assert ready.fields == {"READY": "1", "STATUS": "running"}
    stopping = notify_listener.wait_for("STOPPING", 2)
    assert stopping.fields["STATUS"] == "stopping"
    notifier.close()
    notifier.close()  # idempotent


def test_every_frame_pings_the_watchdog_and_status_is_throttled(notify_listener):
    notifier = SystemdNotifier(str(notify_listener.path), status_interval=60.0)
    for _ in range(10):
        notifier.on_frame(_result())
    notify_listener.wait_for("WATCHDOG", 2, where=lambda m: len(notify_listener.messages) >= 10)
    pings = notify_listener.with_field("WATCHDOG")
    assert len(pings) == 10
    statuses = [m.fields["STATUS"] for m in notify_listener.with_field("STATUS")]
    assert statuses == ["running: 12.5 fps, gesture stop"]
    notifier.close()


def test_watchdog_pings_are_paced_to_a_quarter_of_watchdog_usec(notify_listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_listener.path))
    monkeypatch.setenv("WATCHDOG_USEC", "800000")  # 0.8 s -> at most one ping per 0.2 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = SystemdNotifier.from_env()
    start = time.monotonic()
    while time.monotonic() - start < 0.5:  # a fast loop: 100 frames per second
        notifier.on_frame(_result())
        time.sleep(0.01)
    time.sleep(0.1)
    pings = notify_listener.with_field("WATCHDOG")
    assert 2 <= len(pings) <= 4
    gaps = [b.at - a.at for a, b in itertools.pairwise(pings)]
    assert all(gap > 0.15 for gap in gaps)
    notifier.close()


def test_abstract_namespace_socket_address():
    name = f"gesturepilot-test-{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    listener.settimeout(2)
    try:
        notifier = SystemdNotifier("@" + name)
        notifier.on_frame(_result(fps=3.0, gesture=None))
        message = listener.recv(4096).decode()
    finally:
        listener.close()
    assert message == "WATCHDOG=1\nSTATUS=running: 3.0 fps, gesture none"
    notifier.close()


def test_a_vanished_systemd_is_logged_not_raised(tmp_path, caplog):
    notifier = SystemdNotifier(str(tmp_path / "gone.sock"))
    notifier.ready()
    notifier.on_frame(_result())
    assert "sd_notify 'READY' failed" in caplog.text
    notifier.close()
