"""Live MJPEG preview over HTTP: the camera frame with hand box, landmarks, gesture and fps."""

# The loop only hands over a reference to each `FrameResult`; drawing and JPEG encoding happen in
# the HTTP client threads, once per frame however many clients watch, and not at all when nobody
# watches.

from __future__ import annotations

import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import cv2

from edge.closing import Closing
from edge.service.overlay import draw_overlay
from edge.service.preview_auth import REALM, PreviewAccess, redact
from edge.types import FrameResult

log = logging.getLogger(__name__)

BOUNDARY = "gesturepilotframe"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>gesturepilot preview</title>
<style>body{background:#111;color:#ddd;font-family:sans-serif;margin:1em}
img{max-width:100%;border:1px solid #444}</style></head>
<body><h1>gesturepilot</h1><img src="/stream.mjpg@Q" alt="live preview">
<p>Single frame: <a href="/frame.jpg@Q">/frame.jpg</a></p></body></html>
"""


class _Latest:
    """The newest frame result and its JPEG, encoded lazily and at most once per frame."""

    def __init__(self, quality: int) -> None:
        self._quality = quality
        self._cond = threading.Condition()
        self._result: FrameResult | None = None
        self._seq = 0
        self._jpeg: tuple[int, bytes] | None = None
        self._encode_lock = threading.Lock()
        self.encoded = 0  # frames encoded so far: stays 0 while nobody watches
        self.closed = False

    def put(self, result: FrameResult) -> None:
        with self._cond:
            self._result = result
            self._seq += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_newer(self, seq: int, timeout: float) -> tuple[int, bytes] | None:
        """Return (seq, jpeg) of a frame newer than `seq`, or None on timeout or close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.closed or self._seq > seq, timeout):
                return None
            if self.closed:
                return None
            result, current = self._result, self._seq
        assert result is not None
        with self._encode_lock:  # one encoding per frame, shared by all clients
            if self._jpeg is not None and self._jpeg[0] == current:
                return self._jpeg
            params = [cv2.IMWRITE_JPEG_QUALITY, self._quality]
            ok, buf = cv2.imencode(".jpg", draw_overlay(result), params)
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            self._jpeg = (current, buf.tobytes())
            self.encoded += 1
            return self._jpeg


class _Handler(BaseHTTPRequestHandler):
    server: _PreviewHTTPServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if not self.server.access.allows(self.path, self.headers.get("Authorization", "")):
            self.send_response(HTTPStatus.UNAUTHORIZED)
            self.send_header("WWW-Authenticate", REALM)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "22")
            self.end_headers()
            self.wfile.write(b"a token is needed here\n")
            return
        if path in ("/", "/index.html"):
            # a ?token= link carries on to the stream (Basic auth the browser resends itself)
            query = urlsplit(self.path).query
            page = PAGE.replace("@Q", f"?{quote(query, safe='=&')}" if query else "")
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", page.encode())
        elif path == "/frame.jpg":
            latest = self.server.latest.wait_newer(0, self.server.first_frame_timeout)
            if latest is None:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain", b"no frame yet\n")
            else:
                self._send(HTTPStatus.OK, "image/jpeg", latest[1])
        elif path == "/stream.mjpg":
            self._stream()
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _stream(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        latest = self.server.latest
        seq = 0
        with self.server.watching():
            while not latest.closed:
                got = latest.wait_newer(seq, timeout=1.0)
                if got is None:
                    continue
                seq, jpeg = got
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                head += f"Content-Length: {len(jpeg)}\r\n\r\n"
                try:
                    self.wfile.write(head.encode() + jpeg + b"\r\n")
                    self.wfile.flush()
                except OSError:  # the viewer went away
                    return

    def log_message(self, format: str, *args: object) -> None:
        # The request line may hold ?token=...: it never reaches a log line.
        log.debug("preview %s: %s", self.address_string(), redact(format % args))


class _PreviewHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        latest: _Latest,
        first_frame_timeout: float,
        access: PreviewAccess,
    ) -> None:
        super().__init__(address, _Handler)
        self.access = access
        self.latest = latest
        self.first_frame_timeout = first_frame_timeout
        self.clients = 0
        self._lock = threading.Lock()

    def watching(self) -> _Watching:
        return _Watching(self)

    def handle_error(self, request: object, client_address: object) -> None:
        # A viewer closing its tab mid-frame is routine: no traceback in the journal.
        log.debug("preview client %s failed", client_address, exc_info=True)


class _Watching:
    """Counts stream clients while one is connected (for logs and `PreviewServer.clients`)."""

    def __init__(self, server: _PreviewHTTPServer) -> None:
        self._server = server

    def __enter__(self) -> None:
        with self._server._lock:
            self._server.clients += 1

    def __exit__(self, *exc: object) -> None:
        with self._server._lock:
            self._server.clients -= 1


class PreviewServer(Closing):
    """MJPEG preview: `/` page, `/stream.mjpg` live stream, `/frame.jpg` the newest frame.

    Bind to 127.0.0.1 (the default) and reach it over `ssh -L`; bind elsewhere only with a
    token, which every request must then carry (HTTP Basic password, Bearer or `?token=`).
    No TLS: the token and the frames cross the network in clear (docs/security.md).
    Port 0 picks a free port; read it back from `.port`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        quality: int = 80,
        first_frame_timeout: float = 5.0,
        token: str | None = None,
    ) -> None:
        """Bind the socket (requests are served once `start()` runs).

        Args:
            host: address to listen on.
            port: TCP port, 0 for any free port.
            quality: JPEG quality 1-100.
            first_frame_timeout: how long `/frame.jpg` waits for a first frame before a 503.
            token: the secret asked of every request when `host` is not loopback.

        Raises:
            ValueError: `host` is not loopback and no token is given.
            OSError: the address cannot be bound (in use, not local, no permission).
        """
        access = PreviewAccess(host, token)
        self._token = token if access.required else None
        self._latest = _Latest(quality)
        self._server = _PreviewHTTPServer((host, port), self._latest, first_frame_timeout, access)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port: int = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def clients(self) -> int:
        """Number of connected stream clients."""
        return self._server.clients

    @property
    def frames_encoded(self) -> int:
        """JPEG encodings so far (0 while nobody has watched)."""
        return self._latest.encoded

    def start(self) -> None:
        """Serve requests from a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="preview-http", daemon=True
        )
        self._thread.start()
        if self._token is None:
            log.info("preview on %s", self.url)
            return
        shown = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        # The one log line that holds the token (the journal keeps it: docs/security.md).
        log.info(
            "preview on %s, token required; open http://%s:%d/?token=%s (or HTTP Basic, any "
            "user, the token as password); the token is not logged again",
            self.url,
            shown,
            self.port,
            quote(self._token, safe=""),
        )

    def on_frame(self, result: FrameResult) -> None:
        """Observer hook: keep a reference to the newest frame (no work on the loop's thread)."""
        self._latest.put(result)

    def close(self) -> None:
        """Stop serving and release the port; idempotent."""
        if self._latest.closed:
            return
        self._latest.close()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
