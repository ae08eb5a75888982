"""The real daemon under a NOTIFY_SOCKET, as systemd runs it: READY, WATCHDOG while frames flow,
silence while the camera hangs, STOPPING on SIGTERM; and its MJPEG preview to a real client."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures.service import HANGING_PI_CAMERA, NotifyListener, copy_frames, write_config

from convert.subhih import read_rows
from devtools.localbroker import free_port

STALL_TIMEOUT = 3.0  # [safety] stall_timeout: the camera is reopened after this long
STALL_AFTER = 45  # frames (1.5 s at 30 fps) the fake Pi camera serves per start, then hangs


@pytest.fixture
def frames(datasets: Path, tmp_path: Path) -> Path:
    """A replay folder of 12 real frames (480x360) with hands in them."""
    root = datasets / "subhih-hands"
    names = [r["filename"] for r in read_rows(datasets) if r["label"] == "5-hand"][:12]
    return copy_frames([root / "images" / n for n in names], tmp_path / "frames")


def start_daemon(
    config: Path, notify_socket: Path, log: Path, feed: Path, stall_after: int
) -> subprocess.Popen:
    """`gesture-edge run` as systemd starts it: NOTIFY_SOCKET and WATCHDOG_USEC set."""
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_socket), WATCHDOG_USEC="1000000")
    env.update(GP_FAKE_FEED=str(feed), GP_FAKE_STALL_AFTER=str(stall_after))
    cmd = [sys.executable, "-c", HANGING_PI_CAMERA, "run", "--config", str(config)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def pings_after(listener: NotifyListener, t: float) -> list[float]:
    return [m.at for m in listener.with_field("WATCHDOG") if m.at > t]


def wait_for_silence(listener: NotifyListener, quiet: float, timeout: float) -> float:
    """Wait until no WATCHDOG came for `quiet` seconds; return the last ping's time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = max(m.at for m in listener.with_field("WATCHDOG"))
        if time.monotonic() - last >= quiet:
            return last
        time.sleep(0.1)
    pytest.fail(f"the watchdog pings never stopped within {timeout} s")


def test_daemon_speaks_sd_notify_and_serves_the_preview(
    frames, trained_model, broker, notify_listener, tmp_path
):
    preview_port = free_port()
    config = write_config(
        tmp_path / "gesturepilot.toml",
        {
            "camera": {"backend": "picamera2", "width": 640, "height": 480, "fps": 30.0},
            "model": {"path": str(trained_model.tflite), "num_threads": 1},
            "safety": {"stall_timeout": STALL_TIMEOUT},
            "mqtt": {"host": broker.host, "port": broker.port, "device_id": "svc-notify"},
            "preview": {"enabled": True, "host": "127.0.0.1", "port": preview_port},
        },
    )
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, notify_listener.path, log, frames, stall_after=STALL_AFTER)
    try:
        ready = notify_listener.wait_for("READY", timeout=60)
        assert ready.fields["READY"] == "1"
        notify_listener.wait_for("WATCHDOG", timeout=10)

        # Frames flow, then the camera hangs: pings, then silence, while the daemon stays up.
        # Without pings for WatchdogSec=, systemd would kill and restart the service.
        last = wait_for_silence(notify_listener, quiet=1.0, timeout=60)
        assert len([m for m in notify_listener.with_field("WATCHDOG") if m.at <= last]) >= 3
        statuses = [m.fields["STATUS"] for m in notify_listener.with_field("STATUS")]
        assert any(s.startswith("running: ") and " fps" in s for s in statuses), statuses
        time.sleep(STALL_TIMEOUT - 1.5)
        assert pings_after(notify_listener, last) == [], log.read_text()
        assert daemon.poll() is None, log.read_text()

        # After stall_timeout the daemon reopens the camera; frames and pings come back.
        resumed = notify_listener.wait_for("WATCHDOG", 20, where=lambda m: m.at > last)
        assert resumed.at - last >= STALL_TIMEOUT - 0.5
        assert "camera reopened" in log.read_text()

        # The preview shows the camera's frames to a real HTTP client.
        conn = http.client.HTTPConnection("127.0.0.1", preview_port, timeout=10)
        conn.request("GET", "/frame.jpg")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        shot = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
        conn.close()
        assert shot.shape == (480, 640, 3)

        daemon.send_signal(signal.SIGTERM)
        stopping = notify_listener.wait_for("STOPPING", timeout=5)
        assert stopping.fields["STOPPING"] == "1"
        assert daemon.wait(timeout=10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_a_replay_that_ends_stops_cleanly(frames, trained_model, broker, notify_listener, tmp_path):
    # A finite replay (loop = false) is not a stall: the daemon publishes stop, says STOPPING and
    # exits 0, so Restart=on-failure leaves it down.
    config = write_config(
        tmp_path / "replay.toml",
        {
            "camera": {"backend": "replay", "path": str(frames), "fps": 15.0, "loop": False},
            "model": {"path": str(trained_model.tflite), "num_threads": 1},
            "mqtt": {"host": broker.host, "port": broker.port, "device_id": "svc-replay"},
        },
    )
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_listener.path), WATCHDOG_USEC="1000000")
    gesture_edge = Path(sys.executable).with_name("gesture-edge")
    proc = subprocess.run(
        [str(gesture_edge), "run", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    ready = notify_listener.wait_for("READY", timeout=1)
    stopping = notify_listener.wait_for("STOPPING", timeout=1)
    pings = [m.at for m in notify_listener.with_field("WATCHDOG")]
    assert len(pings) >= 2  # 12 frames at 15 fps: ~0.8 s of pings every 0.25 s
    assert ready.at <= stopping.at and max(pings) <= stopping.at
