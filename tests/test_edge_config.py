"""The TOML config: every kind of mistake is refused with exit 78 and the key named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import ConfigError, load_config, parse_config
from edge.config.paths import default_model_path
from edge.service.cli import main


@pytest.fixture
def model_files(tmp_path: Path) -> Path:
    """Stand-in model files: load_config only checks that the path exists."""
    (tmp_path / "m.tflite").write_bytes(b"x")
    (tmp_path / "m.json").write_text("{}")
    return tmp_path / "m.tflite"


def write(tmp_path: Path, text: str, model: Path) -> Path:
    path = tmp_path / "conf.toml"
    path.write_text(f'[model]\npath = "{model}"\n' + text)
    return path


BAD = [
    ("[camera]\nbakend = 'replay'\n", "[camera] bakend: unknown key"),
    ("[cammera]\n", "[cammera]: unknown section"),
    ("[camera]\nwidth = 'wide'\n", "[camera] width: must be an integer"),
    ("[camera]\nfps = 0\n", "[camera] fps: 0.0 out of range"),
    ("[camera]\nbackend = 'webcam'\n", "[camera] backend: 'webcam' is not one of"),
    ("[camera]\nbackend = 'replay'\n", "[camera] path: required"),
    ("[camera]\nbackend = 'video'\npath = 'no-such.mp4'\n", "[camera] path:"),
    ("[commands]\nmirror = 1\n", "[commands] mirror: must be true or false"),
    ("[commands]\nprofile = 'boat'\n", "[commands] profile:"),
    ("[commands.map]\nup = 'go forward!'\n", "[commands] map.up"),
    ("[smoothing]\nenter = 0.3\nexit = 0.5\n", "[smoothing] exit"),
    ("[safety]\nrepeat_interval = 2.0\n", "[safety] repeat_interval"),
    ("[safety]\nhold_timeout = -1\n", "[safety] hold_timeout"),
    ("[mqtt]\nport = 70000\n", "[mqtt] port"),
    ("[mqtt]\nprefix = 'a/#'\n", "[mqtt] prefix"),
    ("[mqtt]\ndevice_id = 'car/1'\n", "[mqtt] device_id"),
    ("[mqtt]\npassword = 'hunter2'\n", "[mqtt] password: unknown key (use password_env"),
    ("[mqtt]\npassword_env = 'HOME'\n", "[mqtt] password_env: a password needs a username"),
    ("[mqtt]\nusername = 'u'\npassword_env = 'GP_NO_SUCH_VAR_X'\n", "GP_NO_SUCH_VAR_X is not set"),
    ("[mqtt]\ntls_cert = 'conf.toml'\n", "[mqtt] tls_cert: tls_cert and tls_key"),
    ("[locate]\nbox = [0.5, 0.1, 0.4, 0.9]\n", "[locate] box"),
    ("[locate]\nmethod = 'detector'\npalm_model = 'nope.tflite'\n", "[locate] palm_model"),
    ("[log]\nlevel = 'LOUD'\n", "[log] level"),
    ("[camera\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_each_kind_of_error_exits_78_naming_file_and_key(
    tmp_path, model_files, caplog, text, message
):
    path = write(tmp_path, text, model_files)
    assert main(["check-config", "--config", str(path)]) == 78
    assert message in caplog.text
    assert str(path) in caplog.text


def test_all_errors_are_reported_at_once(tmp_path, model_files):
    path = write(tmp_path, "[camera]\nwidth = 1\nheight = 'x'\n[mqtt]\nport = 0\n", model_files)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert all(k in str(err.value) for k in ("[camera] width", "[camera] height", "[mqtt] port"))


def test_missing_model_file_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[model]\npath = "models/absent.tflite"\n')
    with pytest.raises(ConfigError, match=r"\[model\] path: .*absent.tflite does not exist"):
        load_config(path)


def test_relative_paths_resolve_against_the_config_folder_not_the_cwd(
    tmp_path, model_files, monkeypatch
):
    (tmp_path / "frames").mkdir()
    path = tmp_path / "conf.toml"
    path.write_text('[model]\npath = "m.tflite"\n[camera]\nbackend = "replay"\npath = "frames"\n')
    monkeypatch.chdir("/")
    cfg = load_config(path)
    assert cfg.model.path == str(model_files.resolve())
    assert cfg.camera.path == str((tmp_path / "frames").resolve())


def test_defaults_and_derived_values(model_files):
    cfg = parse_config({"model": {"path": str(model_files)}, "camera": {"device": 2}})
    assert cfg.camera.device == "2"  # an integer index is accepted
    assert cfg.mqtt.prefix == "gesturepilot" and cfg.mqtt.device_id  # hostname
    assert cfg.mqtt.command_expiry == 1 and cfg.locate.method == "fixed"


def test_password_from_env_or_systemd_credential_is_never_in_repr(
    model_files, tmp_path, monkeypatch
):
    monkeypatch.setenv("GP_TEST_PW", "s3cret-env")
    cfg = parse_config(
        {
            "model": {"path": str(model_files)},
            "mqtt": {"username": "u", "password_env": "GP_TEST_PW"},
        }
    )
    assert cfg.mqtt.password == "s3cret-env"
    assert "s3cret" not in repr(cfg)
    (tmp_path / "mqtt_password").write_text("s3cret-cred\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    cfg = parse_config({"model": {"path": str(model_files)}, "mqtt": {"username": "u"}})
    assert cfg.mqtt.password == "s3cret-cred"


def test_check_config_as_a_process(tmp_path, model_files, repo_root):
    exe = Path(sys.executable).with_name("gesture-edge")
    shipped = repo_root / "models" / "gestures-image.tflite"  # check-config loads the model
    ok = write(tmp_path, "[camera]\nbackend = 'opencv'\n", shipped)
    res = subprocess.run([exe, "check-config", "--config", ok], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    bad = write(tmp_path, "[safety]\nstall_timeout = 'soon'\n", model_files)
    res = subprocess.run([exe, "check-config", "--config", bad], capture_output=True, text=True)
    assert res.returncode == 78
    assert "[safety] stall_timeout: must be a number" in res.stderr
    res = subprocess.run([exe, "check-config"], capture_output=True, text=True)
    assert res.returncode == 2 and "--config" in res.stderr


def test_shipped_example_configs_are_valid(repo_root):
    for name in ("car.toml", "drone.toml"):
        cfg = load_config(repo_root / "configs" / name)
        assert cfg.model.path == str(default_model_path())
