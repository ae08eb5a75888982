"""A camera that goes away and comes back, per backend, with `gesture-edge run` and mosquitto."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest
from fixtures.broker import Received, Recorder
from test_daemon_e2e import Daemon

STALL = 1.0  # [safety] stall_timeout in these runs
HELD = (("up", 40),)  # looped: `forward` repeated every repeat_interval while the camera serves


def is_command(name: str, reason: str | None = None) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        if not m.topic.endswith("/command"):
            return False
        body = m.json()
        return body["command"] == name and (reason is None or body.get("reason") == reason)

    return match


def is_stats(pred: Callable[[dict], bool]) -> Callable[[Received], bool]:
    return lambda m: m.topic.endswith("/stats") and pred(m.json())


def goes_and_returns(
    rec: Recorder, daemon: Daemon, unplug: Callable[[], None], plug: Callable[[], None]
) -> dict[str, float]:
    """Wait for `forward`, pull the camera, check stop + stall report, put it back, check resume.

    Returns how long each step took (seconds), for the failure message and the report.
    """
    rec.wait_for(is_command("forward"), timeout=30)
    gone = time.monotonic()
    unplug()
    stall = rec.wait_for(lambda m: m.at > gone and is_command("stop", "stall")(m), timeout=10)
    first_stop = next(m for m in rec.on("command") if m.at > gone and m.json()["command"] == "stop")
    report = rec.wait_for(lambda m: m.at > gone and is_stats(lambda s: s["stalled"])(m), 10)
    assert report.json()["stalls"] >= 1
    time.sleep(2.5)  # gone for a while: reopen attempts fail and back off
    during = [m for m in rec.on("command") if m.at > stall.at]
    assert not [m for m in during if m.json()["command"] != "stop"], "no motion while gone"
    back = time.monotonic()
    plug()
    resumed = rec.wait_for(lambda m: m.at > back and is_command("forward")(m), timeout=20)
    clear = rec.wait_for(lambda m: m.at > back and is_stats(lambda s: not s["stalled"])(m), 10)
    assert daemon.proc is not None and daemon.proc.poll() is None, daemon.log
    assert "reopen failed" in daemon.log and "camera reopened" in daemon.log
    times = {
        "stop_after_loss_s": first_stop.at - gone,
        "stall_stop_after_loss_s": stall.at - gone,
        "resume_after_return_s": resumed.at - back,
        "stats_clear_after_return_s": clear.at - back,
    }
    # A held gesture stops within stall_timeout of the last frame (one frame of slack).
    assert times["stop_after_loss_s"] <= STALL + 0.5, times
    assert times["resume_after_return_s"] <= 8.0, times  # backoff 0.5, 1, 2, 4 s
    return times


@pytest.fixture
def held_frames(frames_factory) -> Path:
    return frames_factory("camera-returns", HELD)


def camera_daemon(tmp_path: Path, broker, frames: Path, camera: dict) -> Daemon:
    return Daemon(
        tmp_path,
        broker,
        frames,
        camera=camera,
        safety={"hold_timeout": 3.0, "stall_timeout": STALL, "repeat_interval": 0.2},
        stats={"interval": 0.5},
    )


def test_a_replay_folder_that_vanishes_and_returns_stops_reports_and_resumes(
    tmp_path, broker, held_frames, daemons, recorder_factory
):
    folder = tmp_path / "camera"
    held_frames.rename(folder)
    d = camera_daemon(tmp_path, broker, folder, {"path": str(folder), "loop": True})
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    d.start()
    away = tmp_path / "camera-away"
    goes_and_returns(rec, d, lambda: folder.rename(away), lambda: away.rename(folder))


def write_video(frames: Path, out: Path) -> Path:
    images = [cv2.imread(str(p)) for p in sorted(frames.glob("*.jpg"))]
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), 20, (w, h))
    for image in images * 3:
        writer.write(cv2.resize(image, (w, h)))
    writer.release()
    return out


def test_an_opencv_video_file_that_vanishes_and_returns_stops_reports_and_resumes(
    tmp_path, broker, held_frames, daemons, recorder_factory
):
    video = write_video(held_frames, tmp_path / "camera.avi")
    data = video.read_bytes()
    d = camera_daemon(
        tmp_path, broker, held_frames, {"backend": "video", "path": str(video), "loop": True}
    )
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    d.start()

    def vanish() -> None:
        # Truncated under the reader (an unlink alone leaves the open inode readable), then gone.
        with video.open("r+b") as f:
            f.truncate(0)
        video.unlink()

    goes_and_returns(rec, d, vanish, lambda: video.write_bytes(data))


def test_the_picamera2_fake_raising_mid_stream_then_returning_stops_reports_and_resumes(
    tmp_path, broker, held_frames, daemons, recorder_factory
):
    shim = tmp_path / "shim"
    shim.mkdir()
    # `import picamera2` in the daemon process finds the fake (devtools is on the venv's path).
    (shim / "picamera2.py").write_text(
        "import sys\nfrom devtools import fake_picamera2\nsys.modules[__name__] = fake_picamera2\n"
    )
    unplugged = tmp_path / "unplugged"
    d = camera_daemon(
        tmp_path,
        broker,
        held_frames,
        {"backend": "picamera2", "width": 224, "height": 224, "fps": 20},
    )
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    d.start(
        PYTHONPATH=os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])),
        GP_FAKE_PICAMERA2_FEED=str(held_frames),
        GP_FAKE_PICAMERA2_GONE=str(unplugged),
    )
    goes_and_returns(rec, d, unplugged.touch, unplugged.unlink)
    assert "the Pi camera failed" in d.log and "Traceback" not in d.log
