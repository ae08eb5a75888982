"""`make install DESTDIR=...`, `make uninstall` and the deploy bundle, into temporary roots."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from fixtures.service import NO_ISOLATION, staged_install

PREFIX = "opt/gesturepilot"


def run_edge(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed gesture-edge, run by the staged venv's python (its shebang names /opt)."""
    python = root / PREFIX / "venv/bin/python"
    code = "import sys; from edge.service.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([str(python), "-c", code, *args], capture_output=True, text=True, cwd=cwd)


def as_seen_from(root: Path, config: Path, out: Path) -> Path:
    """The installed config with its absolute paths read inside `root` (what a chroot does)."""
    out.write_text(config.read_text().replace("/opt/gesturepilot", str(root / PREFIX)))
    return out


def test_install_lays_out_the_expected_tree(installed_root, device_models):
    root = installed_root
    for path in (
        f"{PREFIX}/venv/bin/gesture-edge",
        f"{PREFIX}/models/gestures-landmarks.tflite",
        f"{PREFIX}/models/gestures-landmarks.json",
        *(f"{PREFIX}/models/mediapipe/{p.name}" for p in device_models.glob("mediapipe/*.tflite")),
        "etc/gesturepilot/gesturepilot.toml",
        "etc/gesturepilot/mqtt_password",
        "etc/gesturepilot/preview_token",
        "etc/systemd/system/gesturepilot.service",
        "etc/sysusers.d/gesturepilot.conf",
    ):
        assert (root / path).is_file(), path
    model = device_models / "gestures-landmarks.tflite"
    assert (root / PREFIX / "models/gestures-landmarks.tflite").read_bytes() == model.read_bytes()
    cfg = (root / PREFIX / "venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in cfg  # apt's picamera2 stays visible
    # Scripts name the final location, never the staging root.
    assert (
        (root / PREFIX / "venv/bin/gesture-edge")
        .read_text()
        .startswith("#!/opt/gesturepilot/venv/bin/python")
    )
    password = root / "etc/gesturepilot/mqtt_password"
    assert password.read_bytes() == b"\n"  # no password; systemd needs the file to exist
    assert stat.S_IMODE(password.stat().st_mode) == 0o600


def test_install_writes_a_random_preview_token_once_and_keeps_it(
    installed_root, repo_root, project_wheel, device_models, tmp_path
):
    token_file = installed_root / "etc/gesturepilot/preview_token"
    token = token_file.read_text().strip()
    assert len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    other = staged_install(repo_root, tmp_path / "other", project_wheel, device_models)
    assert (other / "etc/gesturepilot/preview_token").read_text().strip() != token  # random
    staged_install(repo_root, other, project_wheel, device_models)  # a reinstall keeps it
    assert (other / "etc/gesturepilot/preview_token").read_text() != ""


def test_installed_package_is_the_wheel_not_the_checkout(installed_root, tmp_path):
    python = installed_root / PREFIX / "venv/bin/python"
    proc = subprocess.run(
        [str(python), "-c", "import edge; print(edge.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert proc.stdout.startswith(str(installed_root / PREFIX / "venv/lib"))


def test_installed_config_passes_check_config(installed_root, tmp_path):
    installed = installed_root / "etc/gesturepilot/gesturepilot.toml"
    text = installed.read_text()
    assert 'path = "/opt/gesturepilot/models/gestures-landmarks.tflite"' in text
    assert 'method = "body"' in text and "full_scale = 2" in text
    config = as_seen_from(installed_root, installed, tmp_path / "c.toml")
    proc = run_edge(installed_root, "check-config", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "configuration is valid" in proc.stderr


def test_a_typo_in_the_installed_config_exits_78(installed_root, tmp_path):
    config = as_seen_from(
        installed_root, installed_root / "etc/gesturepilot/gesturepilot.toml", tmp_path / "c.toml"
    )
    config.write_text(config.read_text().replace("hold_timeout", "hold_timeuot"))
    proc = run_edge(installed_root, "check-config", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 78  # RestartPreventExitStatus=78: systemd will not restart-loop
    assert "hold_timeuot" in proc.stderr


def test_reinstall_keeps_the_users_config_and_uninstall_keeps_etc(
    repo_root, project_wheel, device_models, tmp_path
):
    root = staged_install(repo_root, tmp_path / "root", project_wheel, device_models)
    config = root / "etc/gesturepilot/gesturepilot.toml"
    config.write_text(config.read_text().replace('host = "localhost"', 'host = "broker.lan"'))
    (root / "etc/gesturepilot/mqtt_password").write_text("s3cret\n")
    python = root / PREFIX / "venv/bin/python"
    python.unlink()  # as after an OS upgrade replaced the Python the venv was made from
    python.symlink_to("/nonexistent/python3")
    staged_install(repo_root, root, project_wheel, device_models)
    assert subprocess.run([str(python), "-c", "import edge"], cwd=tmp_path).returncode == 0
    assert 'host = "broker.lan"' in config.read_text()
    assert (root / "etc/gesturepilot/gesturepilot.toml.dist").is_file()
    assert (root / "etc/gesturepilot/mqtt_password").read_text() == "s3cret\n"

    def uninstall(*extra: str) -> None:
        subprocess.run(
            ["make", "-s", "-C", str(repo_root), "uninstall", f"DESTDIR={root}", *extra],
            check=True,
            capture_output=True,
        )

    uninstall()
    assert not (root / "opt").exists() or not any((root / "opt").iterdir())
    assert not (root / "etc/systemd/system/gesturepilot.service").exists()
    assert not (root / "etc/sysusers.d/gesturepilot.conf").exists()
    assert 'host = "broker.lan"' in config.read_text()  # kept unless PURGE=1
    uninstall("PURGE=1")
    assert not (root / "etc/gesturepilot").exists()


def fake_remote(bin_dir: Path, remote: Path) -> Path:
    """ssh, scp and sudo stand-ins: the "Pi" is `remote`, a folder on this machine."""
    bin_dir.mkdir()
    scripts = {
        # scp FILE HOST:PATH -> copy into the remote folder
        "scp": f'#!/bin/sh\ncp "$1" "{remote}/$(basename "${{2#*:}}")"\n',
        # ssh [-t] HOST COMMAND -> run COMMAND here, with /tmp/ meaning the remote folder
        "ssh": (
            '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done; shift\n'
            f'exec sh -c "$(printf %s "$*" | sed "s|/tmp/gesturepilot-deploy|{remote}/'
            'gesturepilot-deploy|g")"\n'
        ),
        "sudo": '#!/bin/sh\nexec "$@"\n',
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def test_make_deploy_ships_the_bundle_and_installs_it_over_ssh(repo_root, device_models, tmp_path):
    remote, root, build = tmp_path / "pi", tmp_path / "root", tmp_path / "build"
    remote.mkdir()
    bin_dir = fake_remote(tmp_path / "bin", remote)
    base = getattr(sys, "_base_executable", sys.executable)
    remote_env = f"DESTDIR={root} VENV_PIP_ARGS=--no-deps LOCK=none DEVICE_PYTHON={base}"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    cmd = ["make", "-s", "-C", str(repo_root), "deploy", "HOST=pi@raspberrypi.local"]
    cmd += [f"DEPLOY_BUILD={build}", f"MODELS={device_models}", f"REMOTE_ENV={remote_env}"]
    cmd += [f"WHEEL_ARGS={' '.join(NO_ISOLATION)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(build / "gesturepilot-deploy.tar.gz") as tar:
        top = sorted({Path(n).parts[1] for n in tar.getnames() if len(Path(n).parts) > 1})
    wheels = [t for t in top if t.startswith("gesturepilot-") and t.endswith(".whl")]
    assert len(wheels) == 1
    assert [t for t in top if t not in wheels] == [
        "configs",
        "locks",
        "models",
        "scripts",
        "systemd",
    ]
    # Installed on the "Pi" from the bundle's wheel, and the copied bundle cleaned up.
    assert (root / PREFIX / "venv/bin/gesture-edge").is_file()
    assert (root / PREFIX / "models/gestures-landmarks.tflite").is_file()
    assert (root / "etc/systemd/system/gesturepilot.service").is_file()
    assert list(remote.iterdir()) == []


DEV_MODULES = ("demo", "bench", "scripted", "scripted_frames", "localbroker", "fetch")


def test_the_device_wheel_holds_the_device_and_no_dev_tool(project_wheel) -> None:
    import zipfile

    with zipfile.ZipFile(project_wheel) as whl:
        names = whl.namelist()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"edge", "subscribers"}, packages  # no convert/ (TensorFlow), no devtools/
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(project_wheel) as whl:
        scripts = whl.read(entry_points).decode()
    assert "gesture-edge" in scripts and "gesture-convert" not in scripts
    modules = {Path(n).stem for n in names if n.startswith("edge/") and n.endswith(".py")}
    assert not modules & set(DEV_MODULES), modules & set(DEV_MODULES)
    assert not [n for n in names if "fake_" in n and n.startswith("edge/")]
    assert "edge/service/cli.py" in names and "edge/hands/classifier.py" in names
    assert "edge/link/schemas/command.json" in names  # package data: the payload schemas


def test_the_workstation_wheel_holds_convert_and_its_command(repo_root, tmp_path) -> None:
    """convert/ is its own distribution (gesturepilot-convert): the workstation's, not the Pi's."""
    import zipfile

    src = tmp_path / "src"
    shutil.copytree(repo_root / "convert", src, ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *NO_ISOLATION]
    subprocess.run([*cmd, "-w", str(tmp_path), str(src)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("gesturepilot_convert-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = whl.read(entry_points).decode()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"convert"}, packages
    assert "convert/cli.py" in names and "convert/landmarks/lockbox.toml" in names
    assert "gesture-convert = convert.cli:main" in scripts


def test_deploy_without_host_is_a_usage_error(repo_root, device_models, tmp_path):
    proc = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(repo_root),
            "deploy",
            f"DEPLOY_BUILD={tmp_path}",
            f"MODELS={device_models}",
            f"WHEEL_ARGS={' '.join(NO_ISOLATION)}",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "usage: make deploy HOST=user@host" in proc.stderr


@pytest.mark.parametrize("missing", ["model"])
def test_install_without_a_model_fails_clearly(repo_root, project_wheel, tmp_path, missing):
    empty = tmp_path / "models"
    empty.mkdir()
    proc = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(repo_root),
            "install",
            f"DESTDIR={tmp_path / 'root'}",
            f"MODELS={empty}",
            f"WHEEL={project_wheel}",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "no model at" in proc.stderr
    assert not (tmp_path / "root").exists()


def test_deploy_bundle_refuses_without_the_hand_models(repo_root, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for suffix in (".tflite", ".json"):
        shutil.copy(repo_root / "models" / f"gestures-landmarks{suffix}", models)
    cmd = ["make", "-s", "-C", str(repo_root), "deploy-bundle", f"DEPLOY_BUILD={tmp_path}"]
    proc = subprocess.run([*cmd, f"MODELS={models}"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "run make models first" in proc.stderr
    assert not (tmp_path / "gesturepilot-deploy.tar.gz").exists()
