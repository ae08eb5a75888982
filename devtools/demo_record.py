"""`make demo`'s daemon: `gesture-edge` with a recorder drawing what it saw on every frame."""

# `python -m devtools.demo_record --out DIR -- run --config FILE` runs the real entry point
# (edge.service.cli.main) with one more frame observer: each frame, drawn by the preview's own
# edge.service.overlay.draw_overlay (hand box, landmarks, the hand that drives, gesture and
# score, the command published), is written small to DIR as a PNG, listed in DIR/frames.csv
# with its capture time, so the demo can add what the car did and build the animation.

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2

from edge.service import cli
from edge.service.overlay import draw_overlay
from edge.types import FrameResult

INDEX = "frames.csv"
FIELDS = ("file", "ts", "index", "gesture", "score", "command")


class FrameRecorder:
    """A frame observer: the overlay of every frame, `width` pixels wide, into `out`."""

    def __init__(self, out: Path, width: int = 288) -> None:
        self.out = out
        self.width = width
        out.mkdir(parents=True, exist_ok=True)
        self._index = (out / INDEX).open("w", newline="")
        self._rows = csv.writer(self._index)
        self._rows.writerow(FIELDS)
        self.count = 0

    def on_frame(self, result: FrameResult) -> None:
        image = draw_overlay(result)
        h, w = image.shape[:2]
        if w > self.width:
            size = (self.width, round(h * self.width / w))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        name = f"{self.count:05d}.png"
        cv2.imwrite(str(self.out / name), image)
        p = result.prediction
        self._rows.writerow(
            (
                name,
                f"{result.frame.ts:.4f}",
                result.frame.index,
                p.label if p else "",
                f"{p.score:.3f}" if p else "",
                result.command.command if result.command else "",
            )
        )
        self._index.flush()  # the daemon may be stopped at any frame: every row is complete
        self.count += 1

    def close(self) -> None:
        self._index.close()


def read_index(folder: Path) -> list[dict[str, str]]:
    """The rows of a recording's frames.csv, in frame order."""
    with (folder / INDEX).open(newline="") as f:
        return list(csv.DictReader(f))


def main(argv: list[str] | None = None) -> int:
    """Run `gesture-edge` with the recorder; returns its exit code."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the drawn frames")
    p.add_argument("--width", type=int, default=288, help="width of the drawn frames")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then gesture-edge's arguments")
    args = p.parse_args(argv)
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    recorder = FrameRecorder(args.out, args.width)
    try:
        return cli.main(rest, observers=[recorder])
    finally:
        recorder.close()


if __name__ == "__main__":
    sys.exit(main())
