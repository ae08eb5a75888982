"""Cameras: replay pacing and end, video files through OpenCV, picamera2 against its fake."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from devtools import fake_picamera2
from edge.cameras import CameraError, EndOfStream, build_camera
from edge.cameras.grabber import FrameGrabber
from edge.cameras.opencv import OpenCVCamera
from edge.cameras.picamera import Picamera2Camera
from edge.cameras.replay import ReplayCamera
from edge.config import CameraConfig
from edge.model.crops import read_rgb


@pytest.fixture(scope="module")
def photos(datasets: Path) -> list[Path]:
    return sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[:6]


def read_all(cam, limit: int = 100) -> list:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            frame = cam.read(1.0)
            if frame is not None:
                frames.append(frame)
    return frames


def test_replay_delivers_every_image_in_order_at_the_set_rate(photos):
    cam = ReplayCamera(photos, fps=20)
    cam.open()
    start = time.monotonic()
    frames = read_all(cam)
    elapsed = time.monotonic() - start
    assert [f.index for f in frames] == list(range(len(photos)))
    assert np.array_equal(frames[2].image, read_rgb(str(photos[2])))
    assert elapsed >= (len(photos) - 1) / 20 * 0.9  # paced, not as fast as possible
    assert all(b.ts > a.ts for a, b in itertools.pairwise(frames))
    cam.close()


def test_replay_loops_when_asked_and_reads_folders(photos, tmp_path):
    for p in photos[:2]:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    cam = ReplayCamera(tmp_path, fps=200, loop=True)
    cam.open()
    frames = [cam.read(1.0) for _ in range(5)]
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert np.array_equal(frames[0].image, frames[2].image)


def test_replay_of_an_empty_or_missing_source_fails_to_open(tmp_path):
    with pytest.raises(CameraError, match="no image files"):
        ReplayCamera(tmp_path).open()
    with pytest.raises(CameraError, match="no such file"):
        ReplayCamera(tmp_path / "absent").open()


def test_video_file_through_opencv(photos, tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for p in photos:
        writer.write(cv2.resize(cv2.imread(str(p)), (320, 240)))
    writer.release()
    cam = build_camera(CameraConfig(backend="video", path=str(path)))
    cam.open()
    frames = read_all(cam)
    assert len(frames) == len(photos)
    assert frames[0].image.shape == (240, 320, 3)
    # RGB order: the frame matches the source photo converted to RGB, not BGR
    want = cv2.cvtColor(cv2.resize(cv2.imread(str(photos[0])), (320, 240)), cv2.COLOR_BGR2RGB)
    assert np.abs(frames[0].image.astype(int) - want).mean() < 12
    cam.close()
    cam.close()  # idempotent


def write_clip(photos: list[Path], path: Path, fps: float, frames: int) -> Path:
    """A video of real photos (cycled) written by OpenCV's own encoder at `fps`."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
    for p in itertools.islice(itertools.cycle(photos), frames):
        writer.write(cv2.resize(cv2.imread(str(p)), (320, 240)))
    writer.release()
    return path


def delivered_rate(cam, frames: int) -> float:
    """Frames per second at which `cam` hands out `frames` frames (first to last)."""
    cam.open()
    times = []
    while len(times) < frames:
        if cam.read(1.0) is not None:
            times.append(time.monotonic())
    cam.close()
    return (frames - 1) / (times[-1] - times[0])


def test_a_15_fps_video_plays_at_15_fps(photos, tmp_path):
    clip = write_clip(photos, tmp_path / "clip.avi", 15, 40)
    # [camera] fps (30 by default) does not speed up a file that states its own rate
    rate = delivered_rate(build_camera(CameraConfig(backend="video", path=str(clip))), 31)
    assert 14.0 <= rate <= 16.0, f"{rate:.2f} fps"


def test_a_video_without_a_usable_rate_plays_at_camera_fps(photos, tmp_path):
    clip = write_clip(photos, tmp_path / "fast.avi", 1000, 30)  # muxers write such rates
    cam = build_camera(CameraConfig(backend="video", path=str(clip), fps=20))
    rate = delivered_rate(cam, 21)
    assert 19.0 <= rate <= 21.0, f"{rate:.2f} fps"


def test_realtime_false_takes_video_and_replay_as_fast_as_they_are_read(photos, tmp_path):
    clip = write_clip(photos, tmp_path / "clip.avi", 5, 20)  # real time: 19 frames = 3.8 s
    video = build_camera(CameraConfig(backend="video", path=str(clip), realtime=False))
    folder = tmp_path / "frames"
    folder.mkdir()
    for p in photos:
        (folder / p.name).write_bytes(p.read_bytes())
    replay = build_camera(
        CameraConfig(backend="replay", path=str(folder), fps=5, loop=True, realtime=False)
    )
    assert delivered_rate(video, 20) > 10 and delivered_rate(replay, 20) > 10


def test_unreadable_video_and_device_sources_raise_camera_error(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_text("this is not a video")
    with pytest.raises(CameraError, match="cannot open"):
        OpenCVCamera(str(bogus), is_file=True).open()
    with pytest.raises(CameraError, match="cannot open"):
        OpenCVCamera(str(tmp_path / "video99")).open()
    pipeline = "videotestsrc num-buffers=1 ! videoconvert ! appsink"
    if "GStreamer:                   NO" in cv2.getBuildInformation():
        with pytest.raises(CameraError, match="no GStreamer"):
            OpenCVCamera(pipeline).open()


@pytest.fixture
def fake_picamera(monkeypatch, photos):
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FEED", [read_rgb(str(p)) for p in photos[:3]])
    monkeypatch.setattr(fake_picamera2, "STALL_AFTER", None)
    monkeypatch.setattr(fake_picamera2, "INSTANCES", [])
    return fake_picamera2


def test_picamera2_backend_reads_the_lores_stream_as_rgb(fake_picamera):
    cam = build_camera(CameraConfig(backend="picamera2", width=320, height=240, fps=15))
    assert isinstance(cam, Picamera2Camera)
    cam.open()
    before = time.time()
    frame = cam.read(0.5)
    picam = fake_picamera.INSTANCES[-1]
    assert picam.config["lores"] == {"size": (320, 240), "format": "YUV420"}
    assert picam.config["main"]["size"][0] >= 320 and picam.config["controls"]["FrameRate"] == 15
    assert frame.image.shape == (240, 320, 3) and frame.image.dtype == np.uint8
    want = cv2.resize(fake_picamera.FEED[0], (320, 240))
    assert np.abs(frame.image.astype(int) - want).mean() < 8  # YUV420 round trip, still RGB
    assert abs(frame.ts - before) < 0.5  # SensorTimestamp mapped to Unix time
    cam.close()
    assert picam.closed and not picam.started


def test_picamera2_timeout_is_no_frame_not_an_error(fake_picamera, monkeypatch):
    monkeypatch.setattr(fake_picamera, "STALL_AFTER", 1)
    cam = Picamera2Camera(160, 120)
    cam.open()
    assert cam.read(0.1) is not None
    assert cam.read(0.1) is None
    cam.close()


def test_picamera2_missing_module_is_a_clear_camera_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails as on a PC
    with pytest.raises(CameraError, match="python3-picamera2"):
        Picamera2Camera().open()


def test_picamera2_numbers_frames_by_capture_time_so_drops_show(fake_picamera):
    cam = Picamera2Camera(160, 120, fps=20)
    cam.open()
    first = cam.read(0.5)
    time.sleep(0.2)  # four frame periods pass without a read: the ISP dropped them
    second = cam.read(0.5)
    cam.close()
    assert first.index == 0 and 3 <= second.index <= 6


def test_grabber_keeps_the_newest_frame_and_survives_a_hung_driver(photos):
    images = [read_rgb(str(p)) for p in photos[:2]]
    release = threading.Event()
    calls = []

    def grab():  # like a V4L2 read: 200 frames quickly, then blocked until released
        calls.append(1)
        if len(calls) > 200:
            release.wait()
            return None
        time.sleep(0.001)
        return images[len(calls) % 2]

    grabber = FrameGrabber(grab)
    first = grabber.read(1.0)
    time.sleep(0.5)  # the consumer is slow: the grabber moves on
    second = grabber.read(1.0)
    assert second.index > first.index + 1  # skipped frames show as a gap
    start = time.monotonic()
    assert grabber.read(0.2) is None  # hung: no frame, and no hang for the caller
    assert time.monotonic() - start < 0.5
    assert grabber.stop(0.2) is False  # still blocked in grab()
    release.set()
