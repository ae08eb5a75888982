"""How far away a camera setting can still read a hand: the hand's size in pixels at a distance."""

# A raised hand, wrist to fingertip, is about 19 cm for an adult. The hand models read it while
# it is at least MIN_HAND_PX tall in the stream it is cut from: on the unseen candir frames
# shrunk k times (`make eval-scenes`, models/scenes.json, the body path on the small stream
# alone) they read 99.2 % of the gestures at a median hand of 21.6 px (k = 3), and at 16.6 px
# (k = 4) 97.5 % with a thumbs-down misread as `down`.

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.config import CameraConfig

HAND_M = 0.19
MIN_HAND_PX = 24.0
FAR_M = 4.0  # DESIGN.md: a raised hand is read from 0.5 m to at least 4 m


def hand_px_at(camera: CameraConfig, distance_m: float) -> float:
    """The hand's size in pixels of the stream it is cut from (`full_scale` x `width`)."""
    seen_m = 2 * distance_m * math.tan(math.radians(camera.hfov) / 2)
    return HAND_M / seen_m * camera.width * camera.full_scale


def reach_m(camera: CameraConfig) -> float:
    """The farthest distance at which the hand is still MIN_HAND_PX tall."""
    return (
        HAND_M
        * camera.width
        * camera.full_scale
        / (MIN_HAND_PX * 2 * math.tan(math.radians(camera.hfov) / 2))
    )


def reach_warning(camera: CameraConfig) -> str | None:
    """A sentence for the log when the camera cannot read a hand at FAR_M, else None."""
    px = hand_px_at(camera, FAR_M)
    if px >= MIN_HAND_PX:
        return None
    return (
        f"[camera] {camera.width}x{camera.height} x full_scale {camera.full_scale} at "
        f"{camera.hfov:g} degrees: a hand {FAR_M:g} m away is about {px:.0f} px, below the "
        f"{MIN_HAND_PX:g} px the hand models read; hands are read up to about "
        f"{reach_m(camera):.1f} m (raise full_scale or width)"
    )
