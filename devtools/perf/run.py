"""`make bench`: the device pipeline's stages, its variants and MediaPipe's `solutions.hands`.

`python -m devtools.perf.run --datasets ../shared/datasets` writes `bench/results.json`, and from
it `bench/README.md` (tables) and `bench/results.png` (devtools.perf.report). Every variant runs
in its own process (devtools.perf.stages; MediaPipe: devtools/perf/mp_anchor.py in
`.venv-mediapipe`) on the same frames, rounds interleaved so that a busy moment of the machine
falls on both sides alike; pinned runs are `taskset -c CORE` with one interpreter thread.
The held case (where a still hand's reuse pays: edge.hands.still) shows the first third of the
frames three times each with fresh sensor noise, as `make eval-held` does.
`--smoke` runs 20 frames, one round and the default variants only (what `make test` checks).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convert.subhih import read_shots
from devtools.held import held
from devtools.perf import endtoend, report
from devtools.perf.summary import accuracy_beside, summarize
from edge.model.crops import read_rgb

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parents[2]
MP_PYTHON = REPO / ".venv-mediapipe" / "bin" / "python"
TFLITE_PYTHON = REPO / ".venv-tflite" / "bin" / "python"
PIN_CORE = 1
HOLD, HELD_NOISE = 3, 2.0  # as make eval-held (devtools.held)


def session_frames(datasets: Path, n: int) -> list[np.ndarray]:
    """The first `n` frames (capture order) of the largest subhih-hands session, decoded."""
    sessions: dict[str, list[Path]] = {}
    for shot in read_shots(datasets):
        sessions.setdefault(shot.session, []).append(shot.path)
    best = max(sessions.values(), key=len)
    return [read_rgb(str(path)) for path in sorted(best)[:n]]


@dataclass(frozen=True)
class Variant:
    """One process to time: ours (devtools.perf.stages flags) or MediaPipe's (`mediapipe`)."""

    name: str
    flags: tuple[str, ...] = ()
    pinned: bool = False
    mediapipe: bool = False
    python: Path = field(default_factory=lambda: Path(sys.executable))
    held: bool = False  # the held-gesture frames (HOLD copies of each, fresh noise on each)

    def command(self, files: dict[str, Path]) -> list[str]:
        frames = files["held" if self.held else "bench"]
        pin = ["taskset", "-c", str(PIN_CORE)] if self.pinned else []
        if self.mediapipe:
            script = str(REPO / "devtools" / "perf" / "mp_anchor.py")
            return [*pin, str(MP_PYTHON), script, "--frames", str(frames), *self.flags]
        stages = ["-m", "devtools.perf.stages", "--frames", str(frames)]
        return [*pin, str(self.python), *stages, *self.flags]


def ours(
    name: str, *flags: str, pinned: bool = False, python: Path | None = None, held: bool = False
) -> Variant:
    threads = ("--threads", "1") if pinned else ()
    exe = python or Path(sys.executable)
    return Variant(name, (*threads, *flags), pinned, python=exe, held=held)


def anchor_pairs(size: str, held: bool = False) -> list[Variant]:
    """Ours (shipped int8 hand models) and MediaPipe at one model size, 1 core and 2 cores."""
    out = []
    tail = ", held" if held else ""
    for pinned in (True, False):
        where = ("1 core" if pinned else "2 cores") + tail
        out.append(ours(f"ours {size} int8, {where}", "--variant", size, pinned=pinned, held=held))
        if MP_PYTHON.is_file():
            flags = ("--variant", size)
            out.append(Variant(f"mediapipe {size}, {where}", flags, pinned, True, held=held))
    return out


def matrix(smoke: bool, float_classifier: Path | None) -> list[Variant]:
    """Every variant of one round (anchor pairs first)."""
    out = []
    for size in ("lite", "full"):
        out += anchor_pairs(size)
        if smoke:
            return out
    out += anchor_pairs("lite", held=True)  # where reuse pays: a gesture held still
    for size in ("lite", "full"):
        out.append(
            ours(f"ours {size} float, 1 core", "--variant", size, "--hands", "float", pinned=True)
        )
        out.append(ours(f"ours {size} float, 2 cores", "--variant", size, "--hands", "float"))
    out.append(ours("ours lite int8 detector, 1 core", "--method", "detector", pinned=True))
    # The body path (the shipped default) on the same close-up frames: the person is rarely in
    # view there, so it shows what looking for one costs; make eval-scenes times it on people.
    out.append(ours("ours lite int8 body, 1 core", "--method", "body", pinned=True))
    out.append(ours("ours lite int8 body, 2 cores", "--method", "body"))
    if float_classifier is not None and float_classifier.is_file():
        flags = ("--float-classifier", str(float_classifier))
        out.append(ours("ours lite int8, float classifier, 1 core", *flags, pinned=True))
    if TFLITE_PYTHON.is_file():
        flags = ("--runtime", "tflite-runtime")
        out.append(
            ours("ours lite int8 tflite-runtime, 1 core", *flags, pinned=True, python=TFLITE_PYTHON)
        )
    return out


def run_once(variant: Variant, files: dict[str, Path]) -> dict[str, Any]:
    """One process of one variant; its JSON line."""
    done = subprocess.run(
        variant.command(files), capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant.name}: exit {done.returncode}: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def rounds(variants: list[Variant], files: dict[str, Path], count: int) -> dict[str, list[dict]]:
    """`count` rounds, each running every variant once, in an order rotated per round."""
    out: dict[str, list[dict]] = {v.name: [] for v in variants}
    for r in range(count):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for variant in order:
            log.info("round %d/%d: %s", r + 1, count, variant.name)
            out[variant.name].append(run_once(variant, files))
    return out


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "arch": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--out", type=Path, default=REPO / "bench")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--e2e-seconds", type=float, default=20.0)
    p.add_argument("--smoke", action="store_true", help="20 frames, one round, default variants")
    p.add_argument(
        "--float-classifier", type=Path, default=REPO / "models" / "gestures-landmarks.float.tflite"
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    n, count, seconds = (20, 1, 2.0) if args.smoke else (args.frames, args.rounds, args.e2e_seconds)
    images = session_frames(args.datasets, n)
    variants = matrix(args.smoke, args.float_classifier)
    still = held(images[: n // HOLD], HOLD, HELD_NOISE, seed=0)
    with tempfile.TemporaryDirectory(prefix="gesturepilot-bench-") as tmp:
        files = {"bench": Path(tmp) / "frames.npy", "held": Path(tmp) / "held.npy"}
        np.save(files["bench"], np.stack(images))
        np.save(files["held"], np.stack(still))
        start = machine()
        raw = rounds(variants, files, count)
    results = {
        "command": "make bench" if not args.smoke else "python -m devtools.perf.run --smoke",
        "machine": start,
        "frames": {
            "count": n,
            "size": list(images[0].shape[:2]),
            "source": "subhih-hands, the largest session's first frames in capture order",
            "held": f"the first {n // HOLD} of them, each {HOLD} times with sensor noise "
            f"(sd {HELD_NOISE:g} grey levels): a gesture held at {HOLD}x the capture rate",
        },
        "rounds": count,
        **summarize(variants, raw),
        "end_to_end": endtoend.run(args.datasets, seconds),
        "end_to_end_held": endtoend.run(args.datasets, seconds, hold=HOLD, noise=HELD_NOISE),
        "accuracy": accuracy_beside(REPO / "models"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    report.write(results, args.out)
    log.info("wrote %s/results.json, README.md, results.png", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
