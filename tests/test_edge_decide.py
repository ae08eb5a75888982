"""Smoothing, the command map and the safety gate: the decisions between classifier and MQTT."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge.config import SafetyConfig, SmoothingConfig
from edge.pipeline.commands import PROFILES, CommandMap
from edge.pipeline.safety import SafetyGate
from edge.pipeline.smoothing import Smoother
from edge.types import Prediction

LABELS = ("none", "up", "down", "left", "right", "stop", "fist", "peace")


def pred(label: str, score: float = 0.9) -> Prediction:
    """A classifier output that puts `score` on `label` and spreads the rest."""
    scores = np.full(len(LABELS), (1 - score) / (len(LABELS) - 1), dtype=np.float32)
    scores[LABELS.index(label)] = score
    return Prediction(label, score, scores, LABELS, 0.0)


def run(smoother: Smoother, labels: list[str], score: float = 0.9) -> list[str]:
    return [smoother.update(pred(lb, score)).gesture for lb in labels]


def test_a_single_odd_frame_never_changes_the_gesture():
    s = Smoother(SmoothingConfig(), LABELS)
    out = run(s, ["up"] * 10 + ["left"] + ["up"] * 5)
    assert out[9:] == ["up"] * 7
    s = Smoother(SmoothingConfig(), LABELS)
    assert set(run(s, ["none"] * 5 + ["left"] + ["none"] * 5)) == {"none"}


def test_a_gesture_is_entered_after_min_hold_frames_and_left_with_hysteresis():
    s = Smoother(SmoothingConfig(window=5, enter=0.6, exit=0.4, min_hold_frames=3), LABELS)
    out = run(s, ["up"] * 8 + ["none"] * 8)
    first_up = out.index("up")
    assert 2 <= first_up <= 6  # needs the window mean over 0.6, then 3 frames in the lead
    released = out.index("none", first_up)
    # exit at 0.4 is lower than enter: "up" outlives the first `none` frames
    assert released - 8 >= 2
    assert out[released:] == ["none"] * (len(out) - released)


def test_low_confidence_frames_count_as_none():
    s = Smoother(SmoothingConfig(min_confidence=0.5), LABELS)
    assert set(run(s, ["up"] * 10, score=0.45)) == {"none"}


def test_ema_smoothing_also_ignores_one_odd_frame():
    s = Smoother(SmoothingConfig(method="ema", alpha=0.4), LABELS)
    out = run(s, ["stop"] * 10 + ["fist"] + ["stop"] * 3)
    assert out[-4:] == ["stop"] * 4


def test_switching_gestures_goes_directly_when_the_new_one_dominates():
    s = Smoother(SmoothingConfig(), LABELS)
    out = run(s, ["up"] * 10 + ["left"] * 10)
    assert out[-1] == "left"
    assert "peace" not in out


def test_profiles_and_overrides():
    car = CommandMap("car")
    assert [car.command_for(g) for g in ("up", "down", "left", "right", "stop", "fist")] == [
        "forward",
        "backward",
        "left",
        "right",
        "stop",
        "stop",
    ]
    assert car.command_for("none") is None and car.command_for("peace") is None
    drone = CommandMap("drone")
    assert drone.command_for("fist") == "land" and drone.command_for("peace") == "takeoff"
    custom = CommandMap("car", {"peace": "horn", "fist": ""})
    assert custom.command_for("peace") == "horn" and custom.command_for("fist") is None
    assert set(PROFILES) == {"car", "drone"}


def test_mirror_swaps_left_and_right_only():
    m = CommandMap("car", mirror=True)
    assert (m.command_for("left"), m.command_for("right"), m.command_for("up")) == (
        "right",
        "left",
        "forward",
    )


SAFETY = SafetyConfig(hold_timeout=1.0, stall_timeout=2.0, repeat_interval=0.5)


def commands(out: list) -> list[tuple[str, str]]:
    return [(c.command, c.reason) for c in out]


def test_gate_sends_at_once_repeats_while_held_and_stops_once_on_release():
    g = SafetyGate(SAFETY, now=0.0)
    sent = []
    for i in range(21):  # 2 s of "up" at 10 fps
        sent += commands(g.on_frame("forward", "up", 0.9, True, i * 0.1))
    assert sent[0] == ("forward", "gesture")
    assert sent[1:] == [("forward", "repeat")] * 4  # at 0.5, 1.0, 1.5, 2.0 s
    sent = []
    for i in range(21, 40):
        sent += commands(g.on_frame(None, "none", 0.9, False, i * 0.1))
    assert sent == [("stop", "release")]


def test_gate_deadman_stops_once_when_confident_frames_dry_up():
    g = SafetyGate(SAFETY, now=0.0)
    g.on_frame("forward", "up", 0.9, True, 0.0)
    sent = []
    for i in range(1, 40):  # the smoothed gesture stays, the raw frames no longer agree
        sent += commands(g.on_frame("forward", "up", 0.5, False, i * 0.1))
    assert ("stop", "deadman") in sent and sent.count(("stop", "deadman")) == 1
    assert sent[-1] == ("stop", "deadman")  # then silence
    # a stray confident frame while the gesture is still held does not restart the vehicle
    assert commands(g.on_frame("forward", "up", 0.9, True, 4.0)) == []
    # a release re-arms it; the next held gesture starts again
    assert commands(g.on_frame(None, "none", 0.9, False, 4.1)) == []
    assert commands(g.on_frame("forward", "up", 0.9, True, 4.2)) == [("forward", "gesture")]


def test_gate_deadman_latch_gives_way_to_a_different_command():
    g = SafetyGate(SAFETY, now=0.0)
    g.on_frame("forward", "up", 0.9, True, 0.0)
    assert commands(g.on_frame("forward", "up", 0.5, False, 2.0)) == [("stop", "deadman")]
    assert commands(g.on_frame("left", "left", 0.9, True, 2.1)) == [("left", "gesture")]


def test_gate_stall_stops_once_and_asks_for_a_reopen_each_period():
    g = SafetyGate(SAFETY, now=0.0)
    g.on_frame("left", "left", 0.9, True, 0.0)
    out, reopen = g.on_idle(0.5)
    assert out == [] and not reopen
    out, reopen = g.on_idle(1.2)
    assert commands(out) == [("stop", "deadman")] and not reopen
    out, reopen = g.on_idle(2.1)
    assert commands(out) == [("stop", "stall")] and reopen and g.stalled
    out, reopen = g.on_idle(3.0)
    assert out == [] and not reopen
    out, reopen = g.on_idle(4.2)
    assert out == [] and reopen  # try the camera again, but no second stop
    g.on_frame(None, "none", 0.0, False, 5.0)
    assert not g.stalled and g.stalls == 1


def test_gate_shutdown_always_stops():
    g = SafetyGate(SAFETY, now=0.0)
    assert commands([g.shutdown(1.0)]) == [("stop", "shutdown")]


def test_stop_gesture_is_sent_and_repeated_but_release_after_it_is_silent():
    g = SafetyGate(SAFETY, now=0.0)
    assert commands(g.on_frame("stop", "stop", 0.9, True, 0.0)) == [("stop", "gesture")]
    assert commands(g.on_frame("stop", "stop", 0.9, True, 0.6)) == [("stop", "repeat")]
    assert g.on_frame(None, "none", 0.9, False, 0.7) == []


@pytest.mark.parametrize("score", [0.3, 0.49])
def test_unconfident_frames_alone_never_start_a_command(score):
    g = SafetyGate(SAFETY, now=0.0)
    assert g.on_frame("forward", "up", score, False, 0.1) == []


def test_one_confident_stop_frame_ends_a_held_motion_at_once() -> None:
    s = Smoother(dataclasses.replace(SmoothingConfig(), instant_stop=True), LABELS)
    out = run(s, ["up"] * 8)
    assert out[-1] == "up"
    assert s.update(pred("stop", 0.9)).gesture == "none"  # released on the first stop frame
    assert run(s, ["up"] * 2) == ["none", "none"]  # the old frames do not bring it back
    assert run(s, ["up"] * 3)[-1] == "up"  # a fresh hold starts it again
    late = Smoother(SmoothingConfig(), LABELS)  # off by default
    run(late, ["up"] * 8)
    assert late.update(pred("stop", 0.9)).gesture == "up"  # without it, the average decides


def test_a_stray_stop_frame_never_starts_a_motion_or_stops_a_stop() -> None:
    s = Smoother(dataclasses.replace(SmoothingConfig(), instant_stop=True), LABELS)
    assert run(s, ["stop"] * 6)[-1] == "stop"
    assert s.update(pred("fist", 0.9)).gesture == "stop"  # only a motion is cut short
