"""Beyond loopback the preview needs its token: 401 without, 200 with, never logged twice."""

from __future__ import annotations

import base64
import http.client
import logging
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_daemon_e2e import GESTURE_EDGE, Daemon
from test_preview import _read_part, _results

from devtools.demo import dump_toml
from devtools.localbroker import free_port
from edge.config import ConfigError, load_config
from edge.config.paths import models_dir
from edge.service.preview import PreviewServer

TOKEN = "Zq3-tT8_vW1xY2zA4bC5dE6f"  # what `make install` writes: secrets.token_urlsafe


def get(port: int, path: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    """One GET through http.client to 127.0.0.1:`port` (status, body, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read() if resp.status != 200 or "mjpg" not in path else _read_part(resp)
        return resp.status, body, dict(resp.headers)
    finally:
        conn.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def open_preview(datasets):
    server = PreviewServer("0.0.0.0", 0, first_frame_timeout=2.0, token=TOKEN)
    server.start()
    server.on_frame(_results(datasets, 1)[0])
    yield server
    server.close()


def test_beyond_loopback_every_path_is_401_without_the_token(open_preview):
    for path in ("/", "/frame.jpg", "/stream.mjpg", "/nope"):
        status, body, headers = get(open_preview.port, path)
        assert status == 401, path
        assert headers["WWW-Authenticate"].startswith('Basic realm="gesturepilot preview"')
        assert b"\xff\xd8" not in body
    for wrong in ("?token=nope", f"?token={TOKEN[:-1]}", f"?token={TOKEN}x"):
        assert get(open_preview.port, f"/frame.jpg{wrong}")[0] == 401
    assert get(open_preview.port, "/frame.jpg", Authorization=f"Bearer {TOKEN[1:]}")[0] == 401
    assert get(open_preview.port, "/frame.jpg", Authorization=basic("pi", "guess"))[0] == 401
    assert get(open_preview.port, "/frame.jpg", Authorization="Basic %%%")[0] == 401


def test_the_token_opens_it_as_link_bearer_or_basic(open_preview):
    port = open_preview.port
    status, jpeg, _ = get(port, f"/frame.jpg?token={TOKEN}")
    assert (status, jpeg[:2]) == (200, b"\xff\xd8")
    assert get(port, "/frame.jpg", Authorization=f"Bearer {TOKEN}")[0] == 200
    assert get(port, "/frame.jpg", Authorization=basic("anyone", TOKEN))[0] == 200
    status, part, _ = get(port, "/stream.mjpg", Authorization=basic("", TOKEN))
    assert (status, part[:2]) == (200, b"\xff\xd8")
    # The page opened from the printed link carries the token on to the stream it embeds.
    status, page, _ = get(port, f"/?token={TOKEN}")
    assert status == 200
    assert f'src="/stream.mjpg?token={TOKEN}"'.encode() in page


def test_the_token_is_logged_once_at_start_and_never_from_requests(datasets, caplog):
    caplog.set_level(logging.DEBUG, logger="edge.service.preview")
    server = PreviewServer("0.0.0.0", 0, token=TOKEN)
    server.start()
    try:
        server.on_frame(_results(datasets, 1)[0])
        for path in (f"/frame.jpg?token={TOKEN}", f"/?a=1&token={TOKEN}", "/?token=wrong"):
            get(server.port, path)
    finally:
        server.close()
    lines = [r.getMessage() for r in caplog.records]
    assert any("GET /frame.jpg?token=***" in line for line in lines), lines  # requests logged
    holding = [line for line in lines if TOKEN in line]
    assert len(holding) == 1 and holding[0].startswith("preview on http://0.0.0.0:")
    assert f"?token={TOKEN}" in holding[0]


def test_loopback_needs_no_token_with_or_without_one(datasets):
    for token in (None, TOKEN):
        server = PreviewServer("127.0.0.1", 0, token=token)
        server.start()
        try:
            server.on_frame(_results(datasets, 1)[0])
            with urllib.request.urlopen(f"{server.url}frame.jpg", timeout=5) as resp:
                assert resp.read(2) == b"\xff\xd8"
        finally:
            server.close()


def test_the_server_itself_refuses_an_open_address_without_a_token():
    with pytest.raises(ValueError, match=r"\[preview\] host = '0.0.0.0' needs a token"):
        PreviewServer("0.0.0.0", 0)


def config_file(tmp_path: Path, **preview: object) -> Path:
    model = models_dir() / "gestures-image.tflite"
    cfg = {"camera": {"backend": "replay", "path": str(tmp_path)}, "model": {"path": str(model)}}
    path = tmp_path / "preview.toml"
    path.write_text(dump_toml({**cfg, "preview": dict(preview)}))
    return path


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "raspberrypi.local"])
def test_an_open_host_without_a_token_is_a_config_error_naming_preview(tmp_path, host):
    with pytest.raises(ConfigError, match=rf"\[preview\] host = '{host}' needs a token"):
        load_config(config_file(tmp_path, host=host))  # also while enabled = false


def test_the_token_comes_from_the_systemd_credential_or_token_env(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "preview_token").write_text(TOKEN + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    cfg = load_config(config_file(tmp_path, host="0.0.0.0"))
    assert cfg.preview.token == TOKEN
    assert TOKEN not in repr(cfg)  # never in a repr (nor a log line made from one)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    monkeypatch.setenv("GP_PREVIEW", TOKEN)
    assert load_config(config_file(tmp_path, host="::", token_env="GP_PREVIEW")).preview.token


def test_a_short_or_missing_token_is_refused_without_echoing_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GP_PREVIEW", "hunter2")
    with pytest.raises(ConfigError) as err:
        load_config(config_file(tmp_path, host="0.0.0.0", token_env="GP_PREVIEW"))
    assert "[preview] token: 7 characters, too short" in str(err.value)
    assert "hunter2" not in str(err.value)
    with pytest.raises(ConfigError, match=r"\[preview\] token_env: environment variable GP_NO"):
        load_config(config_file(tmp_path, host="0.0.0.0", token_env="GP_NO"))


@pytest.mark.parametrize("command", ["run", "check-config"])
def test_gesture_edge_exits_78_naming_preview_without_a_token(tmp_path, command):
    config = config_file(tmp_path, enabled=True, host="0.0.0.0")
    proc = subprocess.run(
        [GESTURE_EDGE, command, "--config", config], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 78, proc.stderr
    assert "[preview] host = '0.0.0.0' needs a token" in proc.stderr
    assert "ssh -L 8080:localhost:8080" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def up_frames(frames_factory) -> Path:
    return frames_factory("preview-up", (("up", 12),), seed=1)


def wait_for_frame(port: int, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            url = f"http://127.0.0.1:{port}/frame.jpg?token={TOKEN}"
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_daemon_serves_an_open_preview_only_with_its_credential_token(
    tmp_path, broker, up_frames, daemons
):
    creds = tmp_path / "creds"  # what systemd's LoadCredential=preview_token hands over
    creds.mkdir()
    (creds / "preview_token").write_text(TOKEN + "\n")
    port = free_port()
    preview = {"enabled": True, "host": "0.0.0.0", "port": port}
    d = Daemon(tmp_path, broker, up_frames, camera={"loop": True}, preview=preview)
    d.config.write_text(d.config.read_text() + '\n[log]\nlevel = "DEBUG"\n')
    daemons.append(d)
    d.start(CREDENTIALS_DIRECTORY=str(creds))
    assert wait_for_frame(port)[:3] == b"\xff\xd8\xff"
    assert get(port, "/frame.jpg")[0] == 401
    assert get(port, "/stream.mjpg", Authorization=basic("pi", "wrong-token-wrong"))[0] == 401
    assert get(port, "/stream.mjpg", Authorization=basic("pi", TOKEN))[0] == 200
    assert get(port, "/frame.jpg", Authorization=f"Bearer {TOKEN}")[0] == 200
    d.proc.send_signal(signal.SIGTERM)
    assert d.wait(10) == 0
    lines = d.log.splitlines()
    assert any("GET /frame.jpg?token=***" in line for line in lines)  # requests were logged
    holding = [line for line in lines if TOKEN in line]
    assert len(holding) == 1 and "preview on http://0.0.0.0:" in holding[0], holding
