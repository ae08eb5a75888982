"""Raspberry Pi camera via picamera2: a small `lores` stream for inference beside `main`."""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2

from edge.cameras.base import CameraError
from edge.types import Frame

log = logging.getLogger(__name__)


def _unix_time(sensor_ns: int | None) -> float:
    """A SensorTimestamp (CLOCK_BOOTTIME ns) as Unix seconds; now when unknown."""
    now = time.time()
    if sensor_ns is None:
        return now
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - sensor_ns / 1e9
    return now - age if 0 <= age < 10 else now


class Picamera2Camera:
    """picamera2, imported only here so the rest of the daemon runs on any machine.

    `main` is kept at the sensor-friendly size for the preview or capture; inference reads the
    `lores` stream (YUV420, the format every Pi ISP can scale to) at `width` x `height`. With
    `full_scale` > 1, `main` is that many times `lores` (same aspect, so both see the same
    field of view) and every frame carries it as `full`: hands are cut from it.
    """

    def __init__(
        self, width: int = 640, height: int = 480, fps: float = 30.0, full_scale: int = 1
    ) -> None:
        self._lores = (width - width % 2, height - height % 2)
        self._full_scale = full_scale
        self._fps = fps
        self._cam: Any = None
        self._first_ts: float | None = None
        self.unreadable = 0  # requests whose image could not be converted (skipped)

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraError(
                "picamera2 is not importable; on Raspberry Pi OS install python3-picamera2 and "
                "create the venv with --system-site-packages"
            ) from exc
        try:
            cam = Picamera2()
            w, h = self._lores
            s = self._full_scale
            main = (w * s, h * s) if s > 1 else (max(w, 1280), max(h, 720))
            config = cam.create_video_configuration(
                main={"size": main, "format": "RGB888"},
                lores={"size": self._lores, "format": "YUV420"},
                controls={"FrameRate": self._fps},
                buffer_count=4,
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:  # libcamera raises many types; all mean "no camera"
            raise CameraError(f"cannot start the Pi camera: {exc}") from exc
        self._cam = cam
        self._first_ts = None
        log.info("picamera2 started: lores %dx%d at %.0f fps", *self._lores, self._fps)

    def read(self, timeout: float) -> Frame | None:
        if self._cam is None:
            raise CameraError("camera is not open")
        try:
            request = self._cam.capture_request(wait=timeout)
        except TimeoutError:
            return None
        except Exception as exc:  # unplugged, libcamera stopped: the loop stops and reopens
            raise CameraError(f"the Pi camera failed: {exc}") from exc
        w, h = self._lores
        try:
            yuv = request.make_array("lores")
            ts = _unix_time(request.get_metadata().get("SensorTimestamp"))
            rgb = cv2.cvtColor(yuv[: h * 3 // 2, :w], cv2.COLOR_YUV2RGB_I420)
            # RGB888 is B, G, R in memory (libcamera's naming): one swap to RGB.
            full = request.make_array("main")[..., ::-1] if self._full_scale > 1 else None
        except Exception as exc:  # a corrupt buffer is one lost frame, not a dead camera
            self.unreadable += 1
            log.warning("picamera2: skipped unreadable frame: %s", exc)
            return None
        finally:
            request.release()
        # Number frames by capture time, so frames the ISP dropped show up as gaps in `index`.
        if self._first_ts is None:
            self._first_ts = ts
        index = round((ts - self._first_ts) * self._fps)
        return Frame(image=rgb, ts=ts, index=index, full=full)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        # A camera that is gone may refuse to stop or close: log it, the reopen goes on.
        for step in (cam.stop, cam.close):
            try:
                step()
            except Exception as exc:
                log.warning("picamera2 %s failed: %s", step.__name__, exc)
