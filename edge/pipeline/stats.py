"""Running statistics for the `stats` topic: fps, per-stage latency percentiles, drops, stalls."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("locate", "classify", "decide", "total")
THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temp() -> float | None:
    """CPU temperature in °C when the kernel exposes it (Pi, Jetson), else None."""
    try:
        return round(int(THERMAL.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


class Stats:
    """Collects per-frame timings; `snapshot()` summarises the recent window."""

    def __init__(self, window: int = 300) -> None:
        self.started = time.monotonic()
        self.frames = 0
        self.dropped_frames = 0
        self._times: dict[str, deque[float]] = {s: deque(maxlen=window) for s in STAGES}
        self._frame_clock: deque[float] = deque(maxlen=window)
        self._last_index: int | None = None
        self._hand_px: float | None = None
        self._raised = 0

    def hand(self, size: float | None, raised: int) -> None:
        """The driving hand's size in frame pixels (None: no hand drives) and the raised hands."""
        self._hand_px, self._raised = size, raised

    def record(self, index: int, stages: dict[str, float]) -> None:
        """One processed frame: its camera index and seconds spent per stage."""
        self.frames += 1
        if self._last_index is not None and index > self._last_index + 1:
            self.dropped_frames += index - self._last_index - 1
        self._last_index = index
        self._frame_clock.append(time.monotonic())
        for stage, seconds in stages.items():
            self._times[stage].append(seconds)

    def reset_index(self) -> None:
        """A reopened camera restarts its frame numbering."""
        self._last_index = None

    def fps(self) -> float:
        clock = self._frame_clock
        if len(clock) < 2 or clock[-1] <= clock[0]:
            return 0.0
        return (len(clock) - 1) / (clock[-1] - clock[0])

    def latency_ms(self) -> dict[str, dict[str, float]]:
        out = {}
        for stage, values in self._times.items():
            if values:
                p50, p95 = np.percentile(np.asarray(values) * 1000.0, [50, 95])
                out[stage] = {"p50": round(float(p50), 2), "p95": round(float(p95), 2)}
        return out

    def snapshot(self, **extra: Any) -> dict[str, Any]:
        """The stats payload; `extra` adds daemon facts (model, runtime, stalls, drops)."""
        return {
            "fps": round(self.fps(), 2),
            "frames": self.frames,
            "dropped_frames": self.dropped_frames,
            "latency_ms": self.latency_ms(),
            "uptime": round(time.monotonic() - self.started, 1),
            "cpu_temp": cpu_temp(),
            "hands_read": self._raised,
            "hand_px": None if self._hand_px is None else round(self._hand_px, 1),
            **extra,
        }
