"""`make soak DURATION=s`: the daemon on replayed real frames for a while, against a private
mosquitto with a simulated car listening; RSS, fps and latency over time -> json + PNG."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devtools.localbroker import LocalBroker

DEVICE = "soak"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watcher:
    """Keeps the daemon's latest stats and each command's delivery latency (same clock)."""

    def __init__(self, broker: LocalBroker) -> None:
        self.stats: dict[str, Any] = {}
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(f"gesturepilot/{DEVICE}/#")
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        name = msg.topic.rsplit("/", 1)[-1]
        with self.lock:
            if name == "stats":
                self.stats = json.loads(msg.payload)
            elif name == "command":
                self.latencies.append(time.time() - json.loads(msg.payload)["ts"])

    def take(self) -> tuple[dict[str, Any], list[float]]:
        with self.lock:
            lat, self.latencies = self.latencies, []
            return dict(self.stats), lat


def config(path: Path, frames: Path, broker: LocalBroker) -> Path:
    path.write_text(
        f'[camera]\nbackend = "replay"\npath = "{frames}"\nfps = 15.0\nloop = true\n'
        '[locate]\nmethod = "tracker"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ndevice_id = "{DEVICE}"\n'
        "[stats]\ninterval = 2.0\n"
    )
    return path


def plot(samples: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    axes[0].plot(t, [s["rss_mb"] for s in samples])
    axes[0].set_ylabel("RSS (MB)")
    axes[1].plot(t, [s["fps"] for s in samples])
    axes[1].set_ylabel("fps")
    axes[2].plot(t, [s["step_p50_ms"] for s in samples], label="step p50")
    axes[2].plot(t, [s["step_p95_ms"] for s in samples], label="step p95")
    axes[2].plot(
        t, [s["command_latency_ms"] for s in samples], label="command, capture to receipt (max)"
    )
    axes[2].set_ylabel("ms")
    axes[2].set_xlabel("seconds")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--datasets", type=Path, required=True)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--every", type=float, default=5.0)
    p.add_argument("--out", type=Path, default=Path("bench/soak.json"))
    args = p.parse_args(argv)
    frames = (args.datasets / "subhih-hands" / "images").resolve()
    samples: list[dict[str, Any]] = []
    with LocalBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        watcher = Watcher(broker)
        cfg = config(Path(tmp) / "soak.toml", frames, broker)
        exe = Path(sys.executable).with_name("gesture-edge")
        log = (Path(tmp) / "daemon.log").open("wb")
        daemon = subprocess.Popen([str(exe), "run", "--config", str(cfg)], stdout=log, stderr=log)
        start = time.monotonic()
        try:
            while time.monotonic() - start < args.duration and daemon.poll() is None:
                time.sleep(args.every)
                stats, lat = watcher.take()
                total = stats.get("latency_ms", {}).get("total", {})
                samples.append(
                    {
                        "t": round(time.monotonic() - start, 1),
                        "rss_mb": round(rss_mb(daemon.pid), 1),
                        "fps": stats.get("fps", 0.0),
                        "step_p50_ms": total.get("p50", 0.0),
                        "step_p95_ms": total.get("p95", 0.0),
                        "command_latency_ms": round(1000 * max(lat), 2) if lat else 0.0,
                        "commands": len(lat),
                    }
                )
                print(json.dumps(samples[-1]), flush=True)
        finally:
            daemon.terminate()
            code = daemon.wait(10)
            log.close()
            if code != 0:
                print((Path(tmp) / "daemon.log").read_text()[-2000:], file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "duration_s": args.duration,
        "rss_mb_start": samples[0]["rss_mb"] if samples else None,
        "rss_mb_end": samples[-1]["rss_mb"] if samples else None,
        "daemon_exit": code,
        "samples": samples,
    }
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    if samples:
        plot(samples, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
