"""Body-first hand finding: MediaPipe's pose models find the person, then the raised hands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.config import LocateConfig
    from edge.hands.body.locator import BodyLocator
    from edge.hands.locator import HandLocator


def open_body_locator(
    locate_cfg: LocateConfig, hands: HandLocator, num_threads: int | None = None
) -> BodyLocator:
    """The `BodyLocator` for `[locate] method = "body"` around a palm+landmark `hands` locator.

    Raises:
        ValueError: a body model cannot be loaded.
    """
    from edge.hands.body.arms import HandRecrop
    from edge.hands.body.locator import BodyLocator, BodyOptions
    from edge.hands.body.pose import PoseDetector, PoseLandmarkModel

    return BodyLocator(
        PoseDetector(locate_cfg.pose_detector_model, num_threads, locate_cfg.min_detection_score),
        PoseLandmarkModel(locate_cfg.pose_landmark_model, num_threads),
        HandRecrop(locate_cfg.hand_recrop_model, num_threads),
        hands,
        BodyOptions(pose_every=locate_cfg.pose_every, max_hands=locate_cfg.max_hands),
    )
