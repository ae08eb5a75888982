"""systemd/gesturepilot-vehicle.service: systemd-analyze verify accepts it, exposure <= 3.0,
and it runs `gesture-edge subscribe` with the exit codes that must not restart-loop."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = "gesturepilot-vehicle.service"
MAX_EXPOSURE = 3.0
pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def settings(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def staged_root(repo_root: Path, root: Path, with_binary: bool) -> Path:
    """The unit where `make install` puts it; the real gesture-edge at its ExecStart path."""
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(repo_root / "systemd" / UNIT, root / "etc/systemd/system")
    (root / "usr/lib/systemd").mkdir(parents=True)
    host_units = next(
        p for p in map(Path, ("/usr/lib/systemd/system", "/lib/systemd/system")) if p.is_dir()
    )
    (root / "usr/lib/systemd/system").symlink_to(host_units)
    if with_binary:
        bin_dir = root / "opt/gesturepilot/venv/bin"
        bin_dir.mkdir(parents=True)
        shutil.copy(repo_root / ".venv/bin/gesture-edge", bin_dir / "gesture-edge")
    return root


def verify(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", UNIT], capture_output=True, text=True
    )


def test_verify_passes_on_the_staged_vehicle_unit(repo_root, tmp_path):
    proc = verify(staged_root(repo_root, tmp_path / "root", with_binary=True))
    assert proc.returncode == 0, proc.stderr
    assert "gesturepilot" not in proc.stdout + proc.stderr


def test_verify_fails_without_the_gesture_edge_binary(repo_root, tmp_path):
    proc = verify(staged_root(repo_root, tmp_path / "root", with_binary=False))
    assert proc.returncode != 0 and "gesture-edge is not executable" in proc.stderr


def test_vehicle_unit_security_exposure_is_at_most_3(repo_root):
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager",
         str(repo_root / "systemd" / UNIT)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    match = re.search(rf"Overall exposure level for {re.escape(UNIT)}: (\d+\.\d+)", proc.stdout)
    assert match and float(match.group(1)) <= MAX_EXPOSURE, proc.stdout


def test_the_vehicle_unit_runs_subscribe_and_never_restart_loops_on_a_bad_config(repo_root):
    s = settings(repo_root / "systemd" / UNIT)
    (exec_start,) = s["ExecStart"]
    assert " subscribe --adapter ${GESTUREPILOT_VEHICLE} --config /etc/gesturepilot/" in exec_start
    assert set(s["RestartPreventExitStatus"][0].split()) == {"78", "2"}
    assert s["Restart"] == ["on-failure"] and s["User"] == ["gesturepilot"]
    assert s["DevicePolicy"] == ["closed"] and s["CapabilityBoundingSet"] == [""]
