"""End to end: replayed frames at 30 FPS -> the daemon -> a real mosquitto -> a subscriber.

The daemon is `gesture-edge run` in its own process (pinned with `taskset` when asked), reading
real JPEG frames (devtools.scripted_frames, sessions the model never trained on) through the
replay camera, which stamps each frame when it delivers it. A paho subscriber on the same broker
records, for every command and gesture message, its arrival minus the frame's `ts`: the
frame-to-subscriber latency. The daemon's CPU share and memory come from /proc, its processed
and dropped frames from its own stats payload.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devtools.demo import dump_toml
from devtools.held import held
from devtools.localbroker import LocalBroker
from devtools.scripted import eval_sessions
from devtools.scripted_frames import DEMO_FRAMES_SCRIPT, write_frame_sequence
from edge.config.paths import default_model_path
from edge.model.artifact import read_meta
from edge.model.crops import read_rgb

TICKS = os.sysconf("SC_CLK_TCK")


class Probe:
    """A subscriber that records frame-to-arrival latency and the daemon's last stats."""

    def __init__(self, host: str, port: int, root: str) -> None:
        self.latencies: list[float] = []
        self.stats: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        topics = [(f"{root}/command", 1), (f"{root}/gesture", 0), (f"{root}/stats", 0)]
        self.client.on_connect = lambda c, *a: c.subscribe(topics)
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        payload = json.loads(msg.payload)
        with self._lock:
            if msg.topic.endswith("/stats"):
                self.stats = payload
            elif isinstance(payload.get("ts"), int | float):
                self.latencies.append(now - float(payload["ts"]))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _memory_mb(pid: int) -> dict[str, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {k: int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def daemon_config(
    frames: Path, host: str, port: int, threads: int, fps: float, method: str = "body"
) -> dict:
    """The shipped pipeline's config (`[locate] method`: the shipped body path by default)
    with the replay camera and the bench's broker."""
    return {
        "camera": {"backend": "replay", "path": str(frames), "fps": fps, "loop": True},
        "model": {"num_threads": threads},
        "locate": {"method": method},
        "commands": {"profile": "car"},
        "mqtt": {"host": host, "port": port, "device_id": "bench"},
        "stats": {"interval": 1.0},
    }


def run(
    datasets: Path,
    seconds: float,
    fps: float = 30.0,
    core: int | None = 0,
    threads: int = 1,
    warmup: float = 3.0,
    method: str = "body",
    hold: int = 1,
    noise: float = 0.0,
) -> dict[str, Any]:
    """Run the daemon for `warmup + seconds`; figures over the last `seconds`. With `hold` > 1
    each frame is shown `hold` times with fresh sensor noise (a gesture held still)."""
    groups = eval_sessions(read_meta(default_model_path()).raw)
    with tempfile.TemporaryDirectory(prefix="gesturepilot-e2e-") as tmp, LocalBroker() as broker:
        frames = Path(tmp) / "frames"
        write_frame_sequence(datasets, frames, DEMO_FRAMES_SCRIPT, groups=groups)
        if hold > 1:
            frames = hold_still(frames, Path(tmp) / "held", hold, noise)
        config = Path(tmp) / "bench.toml"
        cfg = daemon_config(frames, broker.host, broker.port, threads, fps, method)
        config.write_text(dump_toml(cfg))
        probe = Probe(broker.host, broker.port, "gesturepilot/bench")
        pin = ["taskset", "-c", str(core)] if core is not None else []
        cmd = [*pin, sys.executable, "-m", "edge.service.cli", "--log-level", "WARNING", "run"]
        daemon = subprocess.Popen([*cmd, "--config", str(config)])
        try:
            time.sleep(warmup)
            probe.latencies.clear()
            frames_before = probe.stats.get("frames", 0)
            cpu0, t0 = _cpu_seconds(daemon.pid), time.monotonic()
            time.sleep(seconds)
            cpu1, t1 = _cpu_seconds(daemon.pid), time.monotonic()
            memory = _memory_mb(daemon.pid)
            stats = dict(probe.stats)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=10)
            probe.close()
    ms = np.array(probe.latencies) * 1000
    return {
        "fps_offered": fps,
        "hold": hold,
        "seconds": seconds,
        "core": core,
        "threads": threads,
        "messages": len(ms),
        "latency_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
            "p99": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
            "max": round(float(ms.max()), 2) if len(ms) else None,
        },
        "frames_processed": stats.get("frames", 0) - frames_before,
        "fps_processed": stats.get("fps"),
        "dropped_frames": stats.get("dropped_frames"),
        "cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "rss_mb": round(memory["VmRSS"], 1),
        "peak_rss_mb": round(memory["VmHWM"], 1),
        "reused": stats.get("reused"),
    }


def hold_still(frames: Path, out: Path, hold: int, noise: float) -> Path:
    """`frames`' JPEGs each written `hold` times into `out`, with fresh sensor noise on each."""
    out.mkdir()
    names = sorted(frames.glob("*.jpg"))
    images = held([read_rgb(str(p)) for p in names], hold, noise, seed=0)
    for i, image in enumerate(images):
        cv2.imwrite(str(out / f"{i:05d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return out
