"""Hand localisation behind one protocol: a fixed box now, a hand detector when configured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from edge.model.artifact import ModelError
from edge.types import Frame, HandRegion

if TYPE_CHECKING:
    from edge.clock import Clock
    from edge.config import Config
    from edge.pipeline.classify import Classifier


class Locator(Protocol):
    """Finds the hand in a frame; None when there is no hand."""

    def locate(self, frame: Frame) -> HandRegion | None: ...

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        """Every raised hand to read (at most two; one for locators that follow one hand)."""
        ...

    def in_view(self) -> dict[str, Any]:
        """What the locator knows of the hands in view, for the stats payload (may be empty)."""
        ...

    def steady(self, ok: bool) -> None:
        """The loop's word after each frame: the gesture is steady (one hand read, the raw
        frame agrees with the held gesture, nothing being entered or near its release), so a
        still hand may reuse its last landmarks on the next frame (edge.hands.still)."""
        ...

    def close(self) -> None: ...


def inner_box(
    box: tuple[float, float, float, float], margin: float
) -> tuple[float, float, float, float]:
    """The box that an image classifier's crop margin grows back to `box` (same centre)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = (x1 - x0) / 2 / (1 + margin), (y1 - y0) / 2 / (1 + margin)
    return cx - hw, cy - hh, cx + hw, cy + hh


def crop_region(width: int, height: int, margin: float = 0.0) -> HandRegion:
    """The region of an image that is already a hand crop: the classifier sees all of it."""
    return HandRegion(box=inner_box((0.0, 0.0, float(width), float(height)), margin))


class FixedBoxLocator:
    """A fixed region of interest: `box` as fractions of the frame, or a centred square.

    The user holds the hand inside the region; the classifier's `none` class covers "no hand".
    The region is the crop the classifier sees: `crop_margin` (the image model's) is taken off
    here so that the classifier, adding it back, crops exactly the box.
    """

    def __init__(self, box: Sequence[float] | None = None, crop_margin: float = 0.0) -> None:
        if box and not (len(box) == 4 and 0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1):
            raise ValueError(f"box must be [x0, y0, x1, y1] fractions with x0<x1, y0<y1: {box}")
        self._box = tuple(box) if box else None
        self._margin = crop_margin

    def locate(self, frame: Frame) -> HandRegion:
        h, w = frame.image.shape[:2]
        if self._box is None:
            side = min(h, w)
            x0, y0 = (w - side) / 2, (h - side) / 2
            box = (x0, y0, x0 + side, y0 + side)
        else:
            fx0, fy0, fx1, fy1 = self._box
            box = (fx0 * w, fy0 * h, fx1 * w, fy1 * h)
        return HandRegion(box=inner_box(box, self._margin))

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        return [self.locate(frame)]

    def in_view(self) -> dict[str, Any]:
        return {}  # a fixed box does not know how many hands there are

    def steady(self, ok: bool) -> None:
        pass  # the classifier reads the box on every frame

    def close(self) -> None:
        pass


class LocatorUnavailable(RuntimeError):
    """The configured locator cannot be built on this installation."""


def build_locator(cfg: Config, crop_margin: float = 0.0) -> Locator:
    """The locator named by `[locate] method`.

    Args:
        cfg: the configuration (`[locate]`, and `[model] num_threads` for detectors).
        crop_margin: the image classifier's crop margin, for the fixed box (see FixedBoxLocator).

    Raises:
        LocatorUnavailable: a detector/tracker was asked for but edge.hands is not installed.
        ModelError: a hand model cannot be loaded (truncated, not a TFLite file).
    """
    loc = cfg.locate
    if loc.method == "fixed":
        return FixedBoxLocator(loc.box or None, crop_margin)
    try:
        import edge.hands as hands  # lazily: only detector/tracker users pay for it
    except ImportError as exc:
        raise LocatorUnavailable(
            f"[locate] method = {loc.method!r} needs the edge.hands package ({exc})"
        ) from exc
    try:
        return hands.build_hand_locator(loc, cfg.model.num_threads)
    except ValueError as exc:  # a hand model that cannot be loaded: bad data, not a restart
        raise ModelError(f"[locate] method = {loc.method!r}: {exc}") from exc


def follow_operator(cfg: Config, locator: Locator, classifier: Classifier, clock: Clock) -> Locator:
    """`locator` itself, or, with `[operator] enabled`, one that follows a single operator.

    Raises:
        LocatorUnavailable: `[operator] enabled` with a locator that finds no hands.
    """
    if not cfg.operator.enabled:
        return locator
    from edge.hands.locator import HandLocator  # the config refuses an operator without hands
    from edge.hands.operator import OperatorLocator, OperatorOptions

    if not isinstance(locator, HandLocator):
        raise LocatorUnavailable("[operator] enabled needs [locate] method = detector or tracker")
    return OperatorLocator(locator, classifier, OperatorOptions.from_config(cfg), clock)
