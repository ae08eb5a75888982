"""Replay image files (a folder, a file, or a list) as a camera at a set frame rate."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from edge.cameras.base import CameraError, EndOfStream, two_streams
from edge.cameras.pace import Pacer
from edge.model.crops import read_rgb
from edge.types import Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def image_files(paths: Sequence[str | Path]) -> list[Path]:
    """Image files named directly or found (sorted by name) in the given folders.

    Raises:
        CameraError: a path does not exist.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise CameraError(f"{p}: no such file or folder")
    return found


class ReplayCamera:
    """Frames from image files, paced at `fps` (`realtime=False`: as fast as they are read);
    each frame is stamped when it is delivered.

    Frames are decoded on demand and none is skipped, so a replay is reproducible: a consumer
    slower than `fps` simply receives every frame later.
    """

    def __init__(
        self,
        source: str | Path | Sequence[str | Path],
        fps: float = 15.0,
        loop: bool = False,
        small: tuple[int, int] | None = None,
        realtime: bool = True,
    ) -> None:
        self._sources = [source] if isinstance(source, (str, Path)) else list(source)
        self._fps = fps
        self._pace = Pacer(1.0 / fps if realtime else None)
        self._loop = loop
        self._small = small  # two streams: frames this size, the file's pixels as `full`
        self._files: list[Path] = []
        self._next = 0
        self.unreadable = 0  # image files that could not be decoded (skipped, never a stall)

    def open(self) -> None:
        self._files = image_files(self._sources)
        if not self._files:
            raise CameraError(f"replay: no image files in {', '.join(map(str, self._sources))}")
        self._pace.restart()
        self._next = 0
        rate = f"{self._fps:.1f} fps" if self._pace.period else "full speed (realtime = false)"
        log.info("replay of %d images at %s", len(self._files), rate)

    def read(self, timeout: float) -> Frame | None:
        if not self._files:
            raise CameraError("replay camera is not open")
        if not self._pace.wait(timeout):
            return None
        if self._next >= len(self._files) and not self._loop:
            raise EndOfStream
        self._pace.take()
        index = self._next
        self._next += 1
        path = self._files[index % len(self._files)]
        try:
            image = read_rgb(str(path))
        except (ValueError, OSError) as exc:
            # One bad file is one missing frame: skip it (its slot shows as a gap in `index`),
            # never a camera error that would reopen the replay at frame 0.
            self.unreadable += 1
            log.warning("replay: skipped unreadable frame %d (%s): %s", index, path.name, exc)
            return None
        frame = Frame(image=image, ts=time.time(), index=index)
        return frame if self._small is None else two_streams(frame, self._small)

    def close(self) -> None:
        self._files = []
