"""Body-first hand finding: the person, then the hands they hold up, palm detector up close."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

from edge.closing import Closing
from edge.hands.body.arms import Arm, HandRecrop, arms, shoulder_width, upright
from edge.hands.body.pose import Body, Box, PoseDetector, PoseLandmarkModel, views
from edge.hands.geometry import Roi, roi_from_landmarks
from edge.hands.locator import HandLocator, region_from
from edge.types import Frame, HandRegion

log = logging.getLogger(__name__)

# A tracked hand whose centre lies within this share of the body's hand region is that arm's;
# it keeps its own region unless that shrank below MIN_KEPT of the body's.
SAME_HAND = 0.5
MIN_KEPT = 0.7
# A hand (about 19 cm) at the body's own distance is about half the shoulder width (about
# 40 cm) across; one that looks this many shoulder widths large is well in front of the body.
NEARER = 0.8


@dataclass(frozen=True)
class BodyOptions:
    """How often the body is looked at, and how sure each model must be.

    `pose_every`: frames between body landmark runs while a person is followed (the raised /
    resting call and a new hand's region come from it; hands are tracked in between).
    `idle_every`: the same while the person holds no hand up.
    `palm_every`: frames between palm detections while a person is in view but none of their
    raised hands is read (a hand up close the body model missed).
    `redetect_every`: frames between person detections when nobody is in view (the palm
    detector finds close hands meanwhile).
    """

    pose_every: int = 10
    idle_every: int = 3
    palm_every: int = 3
    redetect_every: int = 60
    min_pose_score: float = 0.5
    max_hands: int = 2


@dataclass
class _Hand:
    """A raised hand being followed: its arm and the region for its next landmark run."""

    side: str
    roi: Roi


class BodyLocator(Closing):
    """The `Locator` for `[locate] method = "body"` (MediaPipe Holistic's way, both hands).

    Person: the pose detector finds them, the pose landmark model follows them (its own next
    region), every `pose_every` frames. For each arm whose wrist is in view and raised
    (edge.hands.body.arms.is_raised), the hand's region comes from the wrist, index and pinky
    points, refined by hand_recrop; the hand landmark model then tracks it frame to frame as
    HandLocator does. Resting hands are counted, never read. Nobody in view (a hand that fills the
    frame has no body around it): the palm detector path of `hands` finds the hand, and the
    person detector is tried again every `redetect_every` frames. A person in view whose raised
    hands are not read (a close hand the body model did not explain): the palm path looks too,
    and a hand it finds where a resting arm's hand lies stays unread.

    Args:
        detector, pose, recrop: the body models.
        hands: palm detector + hand landmark model (the close-up path and the landmark runs).
        opts: the cadence and thresholds.
    """

    def __init__(
        self,
        detector: PoseDetector,
        pose: PoseLandmarkModel,
        recrop: HandRecrop,
        hands: HandLocator,
        opts: BodyOptions,
    ) -> None:
        self.detector, self.pose, self.recrop, self.hands = detector, pose, recrop, hands
        self.opts = opts
        self.body: Body | None = None  # the last body seen (for the preview)
        self.arms: list[Arm] = []
        self._person: Roi | None = None
        self._followed: list[_Hand] = []
        self._since_pose = math.inf
        self._close_up = False  # the last frame's hand came from the palm path
        self._since_palm = 0
        self._views: list[Box] = []  # where the person detector looks, one per try
        self._view = 0

    def locate(self, frame: Frame) -> HandRegion | None:
        """The first raised hand (the loop reads all of them through `locate_all`)."""
        found = self.locate_all(frame)
        return found[0] if found else None

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        """Every raised hand in view (at most `max_hands`), each with its side when known."""
        self._since_pose += 1
        if self._since_pose >= self._due():
            self._look_at_body(frame)
        if self._person is None:
            return self._close(frame)
        found = self._read(frame, self._followed)
        seen = {r.side for r in found}
        lost = [h for h in self._followed if h.side not in seen]
        if lost:
            self._handover(lost[0].roi)
        if lost and self._since_pose > 0:
            # A raised hand went missing: look at the body again in this frame (the person
            # may have lowered it, moved, or the hand left its tracked region).
            self._followed = [h for h in self._followed if h.side in seen]
            self._look_at_body(frame)
            if self._person is None:
                return self._close(frame)
            found += self._read(frame, [h for h in self._followed if h.side not in seen])
        self._followed = [h for h in self._followed if h.side in {r.side for r in found}]
        if found:
            self._close_up = False
            return found
        return self._beside(frame)

    def _handover(self, roi: Roi) -> None:
        """A followed hand was lost: the palm path tracks on from its last region at once (as
        the palm tracker would have), unless the body finds it again first."""
        self.hands.follow(roi)
        self._close_up = True
        self._since_palm = self.opts.palm_every

    def _beside(self, frame: Frame) -> list[HandRegion]:
        """A person is in view but none of their raised hands was read: look for a hand up
        close that the body model does not explain (the head cut off, a hand in front of the
        lens) with the palm path, every `palm_every` frames (every frame while it follows one).
        A hand it finds where a resting arm's hand is stays unread: resting hands never drive."""
        self._since_palm += 1
        if not self._close_up and self._since_palm < self.opts.palm_every:
            return []
        self._since_palm = 0
        following = self._close_up
        found = self._close(frame)
        if found and self._at_rest(found[0]):
            self.hands.reset()
            self._close_up = False
            return []
        if following and not found:
            self._since_palm = self.opts.palm_every  # lost it: look again on the next frame
        return found

    def _at_rest(self, region: HandRegion) -> bool:
        """Whether `region` lies in the hand region of an arm the body says is not raised,
        and is no nearer the camera than the body (a hand held out towards the lens is in
        front of the body, whatever the body model made of that arm)."""
        if self.body is not None and region.size >= NEARER * shoulder_width(self.body):
            return False
        x0, y0, x1, y1 = region.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return any(
            not a.raised and math.hypot(cx - a.roi.cx, cy - a.roi.cy) <= a.roi.size / 2
            for a in self.arms
        )

    def _due(self) -> float:
        """Frames between body runs: a followed person's cadence (`idle_every` while they hold
        no hand up, so a hand being raised is seen at once); with nobody in view, every
        other frame (the palm detector takes the others), or `redetect_every` while the
        close-up path follows a hand."""
        if self._person is not None:
            busy = self._followed or self._close_up
            return self.opts.pose_every if busy else self.opts.idle_every
        return self.opts.redetect_every if self._close_up else 2

    def _read(self, frame: Frame, hands: list[_Hand]) -> list[HandRegion]:
        """The landmark model on each followed hand; a hand it still sees moves its region."""
        image, found = frame.image, []
        for hand in hands:
            marks = self.hands.read(image, hand.roi, frame.full)
            if marks.presence < self.hands.min_presence:
                continue
            hand.roi = roi_from_landmarks(marks.points)
            region = region_from(marks, image.shape)
            body = self.body.points if self.body is not None else None
            found.append(dataclasses.replace(region, side=hand.side, body=body))
        return found

    def _look_at_body(self, frame: Frame) -> None:
        """Run the body model on the followed person, or find one; update the raised hands."""
        image = frame.image
        self._since_pose = 0
        body = self._pose(frame, self._person) if self._person is not None else None
        if body is None:  # nobody followed, or the person was lost: find one in this frame
            body = self._find_person(frame)
        if body is None:
            self._forget()
            return
        self.body, self._person = body, body.next_roi
        self.arms = arms(body)
        before = {h.side: h for h in self._followed}
        followed: list[_Hand] = []
        for arm in self.arms:
            if not (arm.visible and arm.raised) or len(followed) >= self.opts.max_hands:
                continue
            fresh = self.recrop.refine(image, arm.roi, frame.full)
            old = before.get(arm.side)
            keep = old is not None and _same_hand(old.roi, fresh)
            followed.append(_Hand(arm.side, old.roi if keep and old is not None else fresh))
        self._followed = followed

    def _pose(self, frame: Frame, roi: Roi) -> Body | None:
        body = self.pose.run(frame.image, roi, frame.full)
        return body if body.score >= self.opts.min_pose_score and upright(body) else None

    def _find_person(self, frame: Frame) -> Body | None:
        """The person detector on this try's view of the frame (edge.hands.body.pose.views):
        one detector run per try, the next view on the next try until someone is found."""
        h, w = frame.image.shape[:2]
        if len(self._views) == 0 or self._views[0][2:] != (w, h):
            self._views, self._view = views(w, h), 0
        people = self.detector.detect(frame.image, self._views[self._view])
        body = self._pose(frame, people[0]) if people else None
        self._view = 0 if body is not None else (self._view + 1) % len(self._views)
        return body

    def _close(self, frame: Frame) -> list[HandRegion]:
        """Nobody in view: the palm detector path (one hand, as HandLocator)."""
        if not self._close_up:
            self.hands.reset()
        region = self.hands.locate(frame)
        self._close_up = region is not None
        return [region] if region is not None else []

    def steady(self, ok: bool) -> None:
        """Reuse a still hand's landmarks only while one raised hand is read (resting hands are
        never read, so they do not count); up close, as the palm path decides."""
        if self._person is None:
            self.hands.steady(ok)
        else:
            self.hands.still.permit(ok and len(self._followed) <= 1)

    def in_view(self) -> dict[str, Any]:
        """For the stats payload: hands raised and resting at the last body run, the path."""
        visible = [a for a in self.arms if a.visible]
        raised = sum(a.raised for a in visible)
        return {
            "hands": max(len(visible), self.hands.hands if self._close_up else 0),
            "hands_raised": raised if self._person is not None else int(self._close_up),
            "hands_resting": len(visible) - raised,
            "body": self._person is not None,
            "reused": round(self.hands.still.share(), 3),
        }

    def _forget(self) -> None:
        self._person, self.body, self.arms, self._followed = None, None, [], []

    def reset(self) -> None:
        """Forget the person and the hands (the next frame runs the detectors)."""
        self._forget()
        self._since_pose = math.inf
        self.hands.reset()

    def close(self) -> None:
        """Release every interpreter; safe to call twice."""
        self.detector.close()
        self.pose.close()
        self.recrop.close()
        self.hands.close()


def _same_hand(tracked: Roi, fresh: Roi) -> bool:
    """Whether the tracked region still frames the hand the body points at (MediaPipe
    Holistic's RoiTrackingCalculator does the same): near it and not shrunk. A tracked box
    that collapsed onto a fist while a finger points (a hand seen from the back) is replaced
    by the body's, so the finger comes back into view within `pose_every` frames."""
    near = math.hypot(tracked.cx - fresh.cx, tracked.cy - fresh.cy) <= SAME_HAND * fresh.size
    return near and tracked.size >= MIN_KEPT * fresh.size
