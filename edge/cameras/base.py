"""The camera protocol and its two errors, which every backend and the loop share."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import cv2

from edge.types import Frame


class CameraError(RuntimeError):
    """The camera source cannot be opened or read."""


class EndOfStream(Exception):
    """A finite source (replay, video file) has no more frames."""


class Camera(Protocol):
    """A source of RGB frames stamped with their capture time.

    `open()` raises CameraError when the source cannot be opened. `read()` returns the next
    frame, None when no frame arrived within `timeout` seconds (the loop decides what a stall
    means), and raises EndOfStream at the end of a finite source. A frame that cannot be
    decoded is skipped and counted in `unreadable`, never an error: only "no frame at all for
    stall_timeout" is a stall. `close()` is idempotent.
    """

    @property
    def unreadable(self) -> int:
        """Frames skipped because they could not be read or decoded."""
        ...

    def open(self) -> None: ...

    def read(self, timeout: float) -> Frame | None: ...

    def close(self) -> None: ...


def two_streams(frame: Frame, size: tuple[int, int]) -> Frame:
    """`frame` with its image as `full` and a copy that fits `size` as `image`, when larger.

    For a backend with one stream (OpenCV, replay) and `[camera] full_scale` > 1: the hands
    are found in the small image and cut from the large one.
    """
    h, w = frame.image.shape[:2]
    if w <= size[0] and h <= size[1]:
        return frame
    scale = min(size[0] / w, size[1] / h)  # keep the capture's aspect (a 16:9 webcam)
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(frame.image, small_size, interpolation=cv2.INTER_AREA)
    return dataclasses.replace(frame, image=small, full=frame.image)
