"""A camera that stops delivering: stop once, report the stall, reopen with backoff."""

from __future__ import annotations

import sys
import threading
import uuid

import pytest

from devtools import fake_picamera2
from edge.config import parse_config
from edge.model.crops import read_rgb
from edge.service import app


@pytest.fixture
def stalling_picamera(monkeypatch, datasets):
    """The fake picamera2 serving real frames, stalling after 15 frames per start."""
    images = sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[:5]
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FEED", [read_rgb(str(p)) for p in images])
    monkeypatch.setattr(fake_picamera2, "STALL_AFTER", 15)
    monkeypatch.setattr(fake_picamera2, "INSTANCES", [])
    return fake_picamera2


def test_stall_sends_stop_reports_it_and_reopens_the_camera(
    broker, image_model, stalling_picamera, recorder_factory
):
    device = f"stall-{uuid.uuid4().hex[:8]}"
    cfg = parse_config(
        {
            "camera": {"backend": "picamera2", "width": 320, "height": 240},
            "model": {"path": str(image_model)},
            "safety": {"hold_timeout": 0.2, "stall_timeout": 0.4, "repeat_interval": 0.1},
            "mqtt": {"host": broker.host, "port": broker.port, "device_id": device},
            "stats": {"interval": 5.0},
        }
    )
    rec = recorder_factory(f"gesturepilot/{device}/#")
    stop = threading.Event()
    daemon = threading.Thread(target=app.run, args=(cfg, stop), daemon=True)
    daemon.start()
    try:
        stall = rec.wait_for(
            lambda m: m.topic.endswith("/command") and m.json()["reason"] == "stall"
        )
        assert stall.json()["command"] == "stop"
        report = rec.wait_for(lambda m: m.topic.endswith("/stats") and m.json()["stalled"])
        assert report.json()["stalls"] >= 1
        # reopened: a second camera instance delivers frames again, and stalls again
        rec.wait_for(lambda m: m.topic.endswith("/stats") and m.json()["stalls"] >= 2, timeout=15)
        assert len(stalling_picamera.INSTANCES) >= 2
        assert all(cam.closed for cam in stalling_picamera.INSTANCES[:-1])
        assert stalling_picamera.INSTANCES[1].frames > 0
    finally:
        stop.set()
        daemon.join(5)
    assert not daemon.is_alive()
    assert stalling_picamera.INSTANCES[-1].closed
    stall_stops = [m for m in rec.on("command") if m.json()["reason"] == "stall"]
    assert len(stall_stops) == len({m.json()["seq"] for m in stall_stops}) >= 2  # once per stall
