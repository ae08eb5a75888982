"""`make install VEHICLE=...`: the vehicle unit, its config and adapter choice staged beside the
daemon; the staged unit passes systemd-analyze verify; uninstall removes it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fixtures.service import staged_install

from subscribers.config import load_vehicle_config

UNIT = "gesturepilot-vehicle.service"


@pytest.fixture(scope="module")
def car_root(repo_root, project_wheel, device_models, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vehicle-destdir")
    return staged_install(repo_root, root, project_wheel, device_models, "VEHICLE=car")


def test_make_install_vehicle_car_stages_the_unit_config_and_adapter(car_root):
    unit = car_root / "etc/systemd/system" / UNIT
    assert unit.is_file()
    assert "/opt/gesturepilot/venv/bin/gesture-edge subscribe" in unit.read_text()
    assert (car_root / "etc/gesturepilot/vehicle.env").read_text() == "GESTUREPILOT_VEHICLE=car\n"
    cfg = load_vehicle_config(car_root / "etc/gesturepilot/vehicle.toml", "car")
    assert cfg.vehicle.adapter == "car"
    assert (car_root / "etc/gesturepilot/vehicle_mqtt_password").stat().st_mode & 0o077 == 0
    assert not (car_root / "etc/systemd/system" / f"{UNIT}.d/no-gpio.conf").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_staged_vehicle_unit_passes_verify_with_the_installed_gesture_edge(car_root):
    units = car_root / "usr/lib/systemd/system"
    if not units.exists():
        units.parent.mkdir(parents=True, exist_ok=True)
        host = next(
            p for p in map(Path, ("/usr/lib/systemd/system", "/lib/systemd/system")) if p.is_dir()
        )
        units.symlink_to(host)
    proc = subprocess.run(
        ["systemd-analyze", "verify", f"--root={car_root}", UNIT], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "gesturepilot" not in proc.stdout + proc.stderr


def test_make_install_refuses_an_unknown_vehicle_before_installing_anything(
    repo_root, project_wheel, device_models, tmp_path
):
    proc = subprocess.run(
        ["make", "-s", "-C", str(repo_root), "install", f"DESTDIR={tmp_path}",
         f"MODELS={device_models}", f"WHEEL={project_wheel}", "VENV_PIP_ARGS=--no-deps",
         "VEHICLE=boat"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0 and "VEHICLE=boat: one of car, drone, sim" in proc.stderr
    assert not (tmp_path / "opt").exists()  # refused before anything is installed


def test_a_drone_install_drops_the_gpio_group_and_uninstall_removes_the_unit(
    repo_root, project_wheel, device_models, tmp_path
):
    root = staged_install(repo_root, tmp_path, project_wheel, device_models, "VEHICLE=drone")
    dropin = root / "etc/systemd/system" / f"{UNIT}.d/no-gpio.conf"
    assert "SupplementaryGroups=\n" in dropin.read_text()
    load_vehicle_config(root / "etc/gesturepilot/vehicle.toml", "drone")
    proc = subprocess.run(
        ["make", "-s", "-C", str(repo_root), "uninstall", f"DESTDIR={root}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (root / "etc/systemd/system" / UNIT).exists() and not dropin.parent.exists()
