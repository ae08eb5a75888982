"""`make soak DURATION=s`: the daemon on replayed real frames for a while, against a private
mosquitto with a simulated car listening; RSS, open fds, threads, fps and latency over time ->
json + PNG, with the drift after warm-up."""

from __future__ import annotations

import argparse
import json
import os
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


def _status(pid: int, key: str) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def rss_mb(pid: int) -> float:
    kb = _status(pid, "VmRSS")
    return kb / 1024 if kb is not None else float("nan")


def threads(pid: int) -> int:
    return _status(pid, "Threads") or 0


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def after_warmup(samples: list[dict[str, Any]], warmup: float) -> dict[str, Any]:
    """RSS drift (last minute median minus first minute median after warm-up), fd, thread range."""
    late = [s for s in samples if s["t"] > warmup]
    if len(late) < 2:
        return {}
    span = max(1, len([s for s in late if s["t"] <= late[0]["t"] + 60]))
    first = sorted(s["rss_mb"] for s in late[:span])
    last = sorted(s["rss_mb"] for s in late[-span:])
    out: dict[str, Any] = {
        "warmup_s": warmup,
        "rss_mb_after_warmup": first[len(first) // 2],
        "rss_mb_last_minute": last[len(last) // 2],
        "rss_drift_mb": round(last[len(last) // 2] - first[len(first) // 2], 1),
        "rss_mb_max": max(s["rss_mb"] for s in late),
    }
    for key in ("fds", "threads"):
        values = [s[key] for s in late if key in s]
        if values:
            out[f"{key}_min"], out[f"{key}_max"] = min(values), max(values)
    return out


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
    fig, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True)
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
    axes[2].legend()
    axes[3].plot(t, [s.get("fds", 0) for s in samples], label="open fds")
    axes[3].plot(t, [s.get("threads", 0) for s in samples], label="threads")
    axes[3].set_ylabel("count")
    axes[3].set_xlabel("seconds")
    axes[3].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--datasets", type=Path, required=True)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--every", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before drift is measured")
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
                        "fds": open_fds(daemon.pid),
                        "threads": threads(daemon.pid),
                        "load_1m": round(os.getloadavg()[0], 2),
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
        "load_avg_1m_mean": round(sum(s["load_1m"] for s in samples) / len(samples), 2)
        if samples
        else None,
        "cpu_count": os.cpu_count(),
        **after_warmup(samples, args.warmup),
        "samples": samples,
    }
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    if samples:
        plot(samples, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
