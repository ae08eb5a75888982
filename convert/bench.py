"""`make bench-convert`: time the int8 image model per crop through the device's code path."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import load_folder
from edge.model.crops import prepare
from edge.model.tflite_model import TFLiteModel

log = logging.getLogger(__name__)


def bench(model_path: Path, crops: np.ndarray, threads: int, repeat: int) -> dict[str, Any]:
    """Milliseconds per crop for prepare + quantize + invoke, after a warm-up.

    Args:
        model_path: the int8 .tflite (json beside it).
        crops: RGB uint8 crops of any size.
        threads: interpreter threads.
        repeat: timed classifications.

    Returns:
        p50/p95/mean milliseconds and the runtime used.
    """
    with TFLiteModel(model_path, num_threads=threads) as model:
        for crop in crops[:10]:
            model.predict(prepare(crop, model.meta.input))
        times = []
        for i in range(repeat):
            crop = crops[i % len(crops)]
            start = time.perf_counter()
            model.predict(prepare(crop, model.meta.input))
            times.append((time.perf_counter() - start) * 1000)
        runtime = model.runtime
    return {
        "threads": threads,
        "runtime": runtime,
        "p50_ms": round(float(np.percentile(times, 50)), 3),
        "p95_ms": round(float(np.percentile(times, 95)), 3),
        "mean_ms": round(float(np.mean(times)), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.bench`: time the model at 1 and 2 threads, write a JSON."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", type=Path, default=Path("models/gestures-image.tflite"))
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--out", type=Path, default=Path("bench/convert.json"))
    p.add_argument("--repeat", type=int, default=300)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    crops = load_folder(args.datasets / "shimaazizi-4gest", 128, r"_(\d*?)\d\.\w+$").images
    results = [bench(args.model, crops, n, args.repeat) for n in (1, 2)]
    report = {
        "model": str(args.model),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "what": "prepare (resize 128->input) + quantize + invoke + dequantize, one crop",
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for r in results:
        log.info("%d thread(s), %s: p50 %.2f ms, p95 %.2f ms", r["threads"], r["runtime"],
                 r["p50_ms"], r["p95_ms"])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
