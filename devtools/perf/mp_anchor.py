"""The anchor of `make bench`: MediaPipe's own `solutions.hands` on the bench's frames.

Runs in its own venv (`.venv-mediapipe`, mediapipe==0.10.21 from the pinned wheel; never a
project dependency) and imports nothing of the project. Tracking mode (`static_image_mode=False`),
one hand, the lite (`model_complexity=0`) or full (1) models, like the device's tracker.
`python devtools/mp_anchor.py --frames F.npy --variant lite` prints one JSON object: per-frame
seconds and how many frames had a hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

COMPLEXITY = {"lite": 0, "full": 1}


def run(frames: np.ndarray, variant: str, warmup: int) -> dict[str, object]:
    """Per-frame time of `Hands.process` over the frames, after `warmup` untimed frames."""
    import mediapipe as mp  # only in .venv-mediapipe

    def tracker() -> object:
        return mp.solutions.hands.Hands(
            static_image_mode=False,
            max_num_hands=1,
            model_complexity=COMPLEXITY[variant],
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )

    hands: Any = tracker()  # warm-up on its own instance: the timed one starts untracked
    for image in frames[:warmup]:
        hands.process(image)
    hands.close()
    hands = tracker()
    times, found = [], 0
    for image in frames:
        t = time.perf_counter()
        result = hands.process(image)
        times.append(time.perf_counter() - t)
        found += bool(result.multi_hand_landmarks)
    hands.close()
    return {
        "seconds": times,
        "hands_found": found,
        "frames": len(frames),
        "version": mp.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", required=True, help="uint8 RGB frames, N x H x W x 3, .npy")
    p.add_argument("--variant", choices=sorted(COMPLEXITY), default="lite")
    p.add_argument("--warmup", type=int, default=20)
    args = p.parse_args(argv)
    frames = np.load(args.frames)
    print(json.dumps(run(frames, args.variant, args.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
