"""What the MJPEG preview costs: the loop's hand-over per frame, and drawing + JPEG per frame.

Usage: python scripts/bench_preview.py --datasets ../shared/datasets --out bench/preview.json
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import statistics
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from edge.model.crops import read_rgb
from edge.service.preview import PreviewServer, draw_overlay
from edge.types import Command, Frame, FrameResult, HandRegion, Prediction

log = logging.getLogger("bench_preview")


def _results(datasets: Path, count: int, size: tuple[int, int]) -> list[FrameResult]:
    root = datasets / "subhih-hands"
    with open(root / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:count]
    out = []
    for i, row in enumerate(rows):
        image = cv2.resize(read_rgb(str(root / "images" / row["filename"])), size)
        sx, sy = size[0] / float(row["width"]), size[1] / float(row["height"])
        box = (float(row["xmin"]) * sx, float(row["ymin"]) * sy)
        box += (float(row["xmax"]) * sx, float(row["ymax"]) * sy)
        lm = np.stack([np.linspace(box[0], box[2], 21), np.linspace(box[3], box[1], 21)], 1)
        region = HandRegion(box=box, landmarks=np.hstack([lm, np.zeros((21, 1))]))
        pred = Prediction("stop", 0.9, np.array([0.1, 0.9]), ("none", "stop"), float(i))
        cmd = Command("stop", "stop", 0.9, float(i))
        out.append(FrameResult(Frame(image, float(i), i), region, pred, "stop", 0.9, cmd, 30.0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=Path("bench/preview.json"))
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = _results(args.datasets, 20, (640, 480))

    server = PreviewServer("127.0.0.1", 0)
    server.start()
    t0 = time.perf_counter()
    for i in range(args.frames * 50):
        server.on_frame(results[i % len(results)])
    handover_us = (time.perf_counter() - t0) / (args.frames * 50) * 1e6
    unwatched_encodes = server.frames_encoded
    server.close()

    times = []
    for i in range(args.frames):
        t0 = time.perf_counter()
        overlay = draw_overlay(results[i % len(results)])
        cv2.imencode(".jpg", overlay, [cv2.IMWRITE_JPEG_QUALITY, 80])  # the server's quality
        times.append((time.perf_counter() - t0) * 1e3)
    server = PreviewServer("127.0.0.1", 0)
    server.start()
    server.on_frame(results[0])
    with urllib.request.urlopen(f"{server.url}frame.jpg", timeout=10) as response:
        jpeg_bytes = len(response.read())
    server.close()
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "frame": "640x480",
        "on_frame_without_viewers_us": round(handover_us, 2),
        "frames_encoded_without_viewers": unwatched_encodes,
        "draw_and_jpeg_ms_p50": round(statistics.median(times), 2),
        "draw_and_jpeg_ms_p95": round(float(np.percentile(times, 95)), 2),
        "jpeg_bytes_q80": jpeg_bytes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log.info("%s", json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
