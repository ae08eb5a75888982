"""Cameras behind one small protocol; `build_camera` picks the backend named in the config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from edge.types import Frame

if TYPE_CHECKING:
    from edge.config import CameraConfig


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


def build_camera(cfg: CameraConfig) -> Camera:
    """The camera backend named by `cfg.backend` (not yet opened).

    Raises:
        CameraError: the backend cannot be used on this machine (e.g. picamera2 missing).
    """
    if cfg.backend == "replay":
        from edge.cameras.replay import ReplayCamera

        return ReplayCamera(cfg.path, fps=cfg.fps, loop=cfg.loop)
    if cfg.backend == "picamera2":
        from edge.cameras.picamera import Picamera2Camera

        return Picamera2Camera(cfg.width, cfg.height, cfg.fps)
    from edge.cameras.opencv import OpenCVCamera

    if cfg.backend == "video":
        return OpenCVCamera(cfg.path, loop=cfg.loop, is_file=True)
    return OpenCVCamera(cfg.device, width=cfg.width, height=cfg.height, fps=cfg.fps)
