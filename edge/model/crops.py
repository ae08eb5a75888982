"""Crop and prepare hand images the same way on the workstation and on the device."""

from __future__ import annotations

import cv2
import numpy as np

from edge.model.artifact import InputSpec


def square_box(
    box: tuple[float, float, float, float], margin: float
) -> tuple[float, float, float, float]:
    """The square around a box's centre, its side the box's longer side times (1 + margin)."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1.0 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2


def crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Cut `box` out of `image`, padding with replicated edges where it leaves the frame."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return image[y0:y1, x0:x1]


def prepare(rgb_crop: np.ndarray, spec: InputSpec) -> np.ndarray:
    """An RGB uint8 crop -> the float input of an image model (batch axis included).

    Resizes to the model's input size, reorders colours if the model wants BGR, and applies the
    model's pixel transform (`pixel * pixel_scale + pixel_offset`).
    """
    height, width = spec.shape[1], spec.shape[2]
    interp = cv2.INTER_AREA if rgb_crop.shape[0] > height else cv2.INTER_LINEAR
    img = cv2.resize(rgb_crop, (width, height), interpolation=interp)
    if spec.color == "BGR":
        img = img[..., ::-1]
    x = img.astype(np.float32) * spec.pixel_scale + spec.pixel_offset
    return x[None]


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as RGB uint8.

    Raises:
        ValueError: the file cannot be read or decoded as an image.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:  # gone, a folder, no permission: all "unreadable" to the caller
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
