"""A device installs exactly the locked, hashed wheels (locks/, `make lock`) pyproject allows."""

from __future__ import annotations

import base64
import hashlib
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from devtools.lock import LOCKS, TARGETS, WHEELHOUSE, device_requirements, read_lock

PREFIX = "opt/gesturepilot"


def test_there_is_one_lock_per_supported_platform_and_python():
    names = {t.name for t in TARGETS}
    assert names == {
        "edge-linux-x86_64-cp311",
        "edge-linux-x86_64-cp313",
        "edge-linux-aarch64-cp311",
        "edge-linux-aarch64-cp313",
    }
    assert {p.stem for p in LOCKS.glob("*.txt")} == names


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_each_lock_pins_every_device_dependency_within_pyprojects_range(target):
    locked = read_lock(target.lock)
    env = target.environment()
    needed = [r for r in device_requirements() if r.marker is None or r.marker.evaluate(env)]
    assert {canonicalize_name(r.name) for r in needed} >= {
        "numpy",
        "ai-edge-litert",
        "opencv-python-headless",
        "paho-mqtt",
    }
    for req in needed:
        name = canonicalize_name(req.name)
        assert name in locked, f"{target.lock.name}: {name} is not locked (make lock)"
        version = locked[name][0]
        assert SpecifierSet(str(req.specifier)).contains(version, prereleases=True), (
            f"{target.lock.name}: {name}=={version} is outside pyproject.toml's {req}"
        )
    for name, (version, hashes) in locked.items():
        assert version and hashes, f"{target.lock.name}: {name} has no version or no sha256"
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
    assert "tensorflow" not in locked  # never on the device


def test_the_pi_locks_pin_the_numpy_that_apt_ships_for_picamera2():
    pi = {t.name: t for t in TARGETS if t.machine == "aarch64"}
    for target in pi.values():
        assert read_lock(target.lock)["numpy"][0] == target.numpy
    assert pi["edge-linux-aarch64-cp311"].numpy == "1.24.2"  # Raspberry Pi OS Bookworm


def tiny_wheel(folder: Path, name: str, version: str) -> Path:
    """A pure-Python wheel of one module, built by hand (no index, no build backend)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
    return wheel


def install(repo_root, wheel, models, root: Path, *extra: str) -> subprocess.CompletedProcess:
    base = getattr(sys, "_base_executable", sys.executable)
    cmd = ["make", "-s", "-C", str(repo_root), "install", f"DESTDIR={root}"]
    cmd += [f"DEVICE_PYTHON={base}", f"MODELS={models}", f"WHEEL={wheel}", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_install_takes_only_hashed_wheels_and_refuses_a_tampered_one(
    repo_root, project_wheel, device_models, tmp_path
):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    probe = tiny_wheel(house, "gp_lockprobe", "1.0")
    digest = hashlib.sha256(probe.read_bytes()).hexdigest()
    lock = tmp_path / "lock.txt"
    lock.write_text(f"gp-lockprobe==1.0 \\\n    --hash=sha256:{digest}\n")
    args = (f"LOCK={lock}", f"WHEELHOUSE={house}")
    proc = install(repo_root, project_wheel, device_models, tmp_path / "ok", *args)
    assert proc.returncode == 0, proc.stderr
    assert f"dependencies from {lock} (pip --require-hashes, only from {house})" in proc.stderr
    site = next((tmp_path / "ok" / PREFIX / "venv/lib").glob("python3*/site-packages"))
    assert (site / "gp_lockprobe.py").is_file()
    with zipfile.ZipFile(probe, "a") as whl:  # one byte of someone else's code
        whl.writestr("gp_lockprobe_extra.py", "import os\n")
    proc = install(repo_root, project_wheel, device_models, tmp_path / "bad", *args)
    assert proc.returncode != 0
    assert "DO NOT MATCH THE HASHES" in proc.stderr
    assert "the locked install failed" in proc.stderr and "Traceback" not in proc.stderr
    lock.write_text("gp-lockprobe==1.0\n")  # a pin without its hash is refused too
    proc = install(repo_root, project_wheel, device_models, tmp_path / "nohash", *args)
    assert proc.returncode != 0 and "Hashes are required" in proc.stderr


def test_install_names_the_missing_lock(repo_root, project_wheel, device_models, tmp_path):
    missing = tmp_path / "nope.txt"
    proc = install(repo_root, project_wheel, device_models, tmp_path / "r", f"LOCK={missing}")
    assert proc.returncode != 0 and f"LOCK={missing}: no such file" in proc.stderr


THIS = f"edge-linux-{platform.machine()}-cp{sys.version_info[0]}{sys.version_info[1]}"


@pytest.mark.skipif(
    not (WHEELHOUSE / THIS).is_dir(), reason=f"no build/wheelhouse/{THIS}: run make lock (network)"
)
def test_this_machines_lock_installs_offline_and_the_daemon_imports(
    repo_root, project_wheel, device_models, tmp_path
):
    """The real lock for this machine, from the wheels `make lock` hashed, with --no-index."""
    root = tmp_path / "root"
    proc = install(repo_root, project_wheel, device_models, root, f"WHEELHOUSE={WHEELHOUSE / THIS}")
    assert proc.returncode == 0, proc.stderr
    assert f"dependencies from {repo_root}/locks/{THIS}.txt" in proc.stderr
    python = root / PREFIX / "venv/bin/python"
    code = "import cv2, numpy, paho.mqtt, ai_edge_litert.interpreter, edge.service.app; print('ok')"
    run = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.stdout.strip() == "ok", run.stderr
    freeze = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True)
    installed = dict(line.split("==", 1) for line in freeze.stdout.splitlines() if "==" in line)
    installed = {canonicalize_name(k): v for k, v in installed.items()}
    for name, (version, _) in read_lock(LOCKS / f"{THIS}.txt").items():
        assert installed.get(name) == version, (name, version, installed.get(name))
