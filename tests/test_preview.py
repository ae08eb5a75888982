"""The MJPEG preview serves real JPEG frames with the overlay to a real HTTP client."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.subhih import box_of, read_rows
from edge.model.crops import read_rgb
from edge.service.preview import BOUNDARY, PreviewServer
from edge.types import Command, Frame, FrameResult, HandRegion, Prediction

LABELS = ("none", "stop")


def _results(datasets: Path, count: int) -> list[FrameResult]:
    """FrameResults built from real frames and their annotated hand boxes."""
    root = datasets / "subhih-hands"
    rows = [r for r in read_rows(datasets) if r["label"] == "5-hand"][:count]
    results = []
    for i, row in enumerate(rows):
        image = read_rgb(root / "images" / row["filename"])
        box = box_of(row)
        # 21 points spread inside the box stand in for a landmark model's output.
        xs = np.linspace(box[0] + 5, box[2] - 5, 21)
        ys = np.linspace(box[3] - 5, box[1] + 5, 21)
        landmarks = np.stack([xs, ys, np.zeros(21)], axis=1)
        region = HandRegion(box=box, score=0.9, landmarks=landmarks)
        scores = np.array([0.1, 0.9], dtype=np.float32)
        prediction = Prediction("stop", 0.9, scores, LABELS, ts=float(i))
        command = Command("stop", "stop", 0.9, ts=float(i))
        frame = Frame(image=image, ts=float(i), index=i)
        results.append(FrameResult(frame, region, prediction, "stop", 0.9, command, fps=15.0))
    return results


@pytest.fixture
def preview():
    server = PreviewServer("127.0.0.1", 0, first_frame_timeout=0.5)
    server.start()
    yield server
    server.close()


def _read_part(response: http.client.HTTPResponse) -> bytes:
    """Read one part of a multipart/x-mixed-replace body and return its payload."""
    line = response.readline()
    while line in (b"\r\n", b"\n"):
        line = response.readline()
    assert line.strip() == f"--{BOUNDARY}".encode()
    headers = {}
    while (line := response.readline()) not in (b"\r\n", b""):
        key, value = line.decode().split(":", 1)
        headers[key.strip().lower()] = value.strip()
    assert headers["content-type"] == "image/jpeg"
    return response.read(int(headers["content-length"]))


def test_port_zero_binds_a_free_localhost_port(preview):
    assert preview.host == "127.0.0.1"
    assert preview.port > 0
    with urllib.request.urlopen(preview.url, timeout=5) as response:
        page = response.read().decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'src="/stream.mjpg"' in page


def test_frame_before_any_result_is_503_and_unknown_path_404(preview):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{preview.url}frame.jpg", timeout=5)
    assert err.value.code == 503
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{preview.url}nope", timeout=5)
    assert err.value.code == 404


def test_nothing_is_encoded_while_nobody_watches(preview, datasets):
    results = _results(datasets, 1)
    for _ in range(30):
        preview.on_frame(results[0])
    assert preview.frames_encoded == 0
    with urllib.request.urlopen(f"{preview.url}frame.jpg", timeout=5) as response:
        jpeg = response.read()
    assert response.headers["Content-Type"] == "image/jpeg"
    assert jpeg[:2] == b"\xff\xd8"
    assert preview.frames_encoded == 1


def test_stream_delivers_overlaid_jpeg_frames(preview, datasets):
    results = _results(datasets, 4)
    stop = threading.Event()

    def feed() -> None:  # the daemon's loop, at ~30 fps
        i = 0
        while not stop.is_set():
            preview.on_frame(results[i % len(results)])
            i += 1
            time.sleep(0.03)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=5)
        conn.request("GET", "/stream.mjpg")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"] == (
            f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        )
        images = [_read_part(response) for _ in range(3)]
        assert preview.clients == 1
        conn.close()
    finally:
        stop.set()
        feeder.join()
    for jpeg in images:
        decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None
        assert decoded.shape == results[0].frame.image.shape
    # The hand box is drawn in green (BGR 0,220,0) on the frame's top edge of the box.
    decoded = cv2.imdecode(np.frombuffer(images[-1], np.uint8), cv2.IMREAD_COLOR)
    box_edges = [r.region.box for r in results]
    greens = []
    for x0, y0, x1, _ in box_edges:
        b, g, r = decoded[round(y0), round((x0 + x1) / 2)].astype(int)
        greens.append(g > 150 and b < 100 and r < 100)
    assert any(greens)


def test_close_ends_streams_and_frees_the_port(datasets):
    server = PreviewServer("127.0.0.1", 0)
    server.start()
    server.on_frame(_results(datasets, 1)[0])
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/stream.mjpg")
    response = conn.getresponse()
    assert _read_part(response)[:2] == b"\xff\xd8"
    server.close()
    server.close()  # idempotent
    assert response.read().strip() == b""  # the stream ends instead of hanging
    again = PreviewServer("127.0.0.1", server.port)  # the port is free again
    again.close()


def test_busy_port_is_an_oserror():
    first = PreviewServer("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            PreviewServer("127.0.0.1", first.port)
    finally:
        first.close()
