"""Cameras behind one small protocol; `build_camera` picks the backend named in the config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.cameras.base import Camera, CameraError, EndOfStream

__all__ = ["Camera", "CameraError", "EndOfStream", "build_camera"]

if TYPE_CHECKING:
    from edge.config import CameraConfig


def build_camera(cfg: CameraConfig) -> Camera:
    """The camera backend named by `cfg.backend` (not yet opened).

    Raises:
        CameraError: the backend cannot be used on this machine (e.g. picamera2 missing).
    """
    small = (cfg.width, cfg.height) if cfg.full_scale > 1 else None  # two streams
    if cfg.backend == "replay":
        from edge.cameras.replay import ReplayCamera

        return ReplayCamera(
            cfg.path, fps=cfg.fps, loop=cfg.loop, small=small, realtime=cfg.realtime
        )
    if cfg.backend == "picamera2":
        from edge.cameras.picamera import Picamera2Camera

        return Picamera2Camera(cfg.width, cfg.height, cfg.fps, cfg.full_scale)
    from edge.cameras.opencv import OpenCVCamera

    if cfg.backend == "video":
        return OpenCVCamera(
            cfg.path, fps=cfg.fps, loop=cfg.loop, is_file=True, small=small, realtime=cfg.realtime
        )
    scale = cfg.full_scale
    return OpenCVCamera(cfg.device, cfg.width * scale, cfg.height * scale, cfg.fps, small=small)
