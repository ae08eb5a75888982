"""The unit file: systemd-analyze verify accepts it and its security exposure stays <= 3.0."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

MAX_EXPOSURE = 3.0
pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit_settings(path: Path) -> dict[str, list[str]]:
    """`Key` -> every value it is given in the unit (keys may repeat, e.g. DeviceAllow)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_verify_passes_on_the_installed_unit(installed_root):
    # verify --root resolves ExecStart= inside the staged tree; it also needs systemd's own
    # units (sysinit.target, ...) there, so borrow the host's.
    units = installed_root / "usr/lib/systemd/system"
    units.parent.mkdir(parents=True, exist_ok=True)
    if not units.exists():
        units.symlink_to(
            next(
                p
                for p in map(Path, ("/usr/lib/systemd/system", "/lib/systemd/system"))
                if p.is_dir()
            )
        )
    proc = subprocess.run(
        ["systemd-analyze", "verify", f"--root={installed_root}", "gesturepilot.service"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "gesturepilot" not in proc.stdout + proc.stderr  # no warning about our unit


def test_verify_fails_when_the_daemon_is_not_installed(installed_root, tmp_path):
    # The check above is not vacuous: the same unit without its ExecStart binary is refused.
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(
        installed_root / "etc/systemd/system/gesturepilot.service", tmp_path / "etc/systemd/system"
    )
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/system").symlink_to(installed_root / "usr/lib/systemd/system")
    proc = subprocess.run(
        ["systemd-analyze", "verify", f"--root={tmp_path}", "gesturepilot.service"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "gesture-edge is not executable" in proc.stderr


def test_security_exposure_is_at_most_3(repo_root):
    proc = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            "--no-pager",
            str(repo_root / "systemd/gesturepilot.service"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"Overall exposure level for gesturepilot\.service: (\d+\.\d+)", proc.stdout)
    assert match, proc.stdout
    assert float(match.group(1)) <= MAX_EXPOSURE


def test_the_unit_encodes_the_service_contract(repo_root):
    s = unit_settings(repo_root / "systemd/gesturepilot.service")
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["WatchdogSec"] == ["10s"]
    assert s["Restart"] == ["on-failure"]
    assert s["StartLimitIntervalSec"] == ["0"]  # a late or re-plugged camera is picked up
    # EX_CONFIG (bad config) and EX_DATAERR (corrupt model) must not restart-loop
    assert s["RestartPreventExitStatus"] == ["78 65"]
    assert s["ExecStart"] == [
        "/opt/gesturepilot/venv/bin/gesture-edge run --config /etc/gesturepilot/gesturepilot.toml"
    ]
    assert s["LoadCredential"] == [
        "mqtt_password:/etc/gesturepilot/mqtt_password",
        "preview_token:/etc/gesturepilot/preview_token",
    ]
    assert s["User"] == ["gesturepilot"] and s["SupplementaryGroups"] == ["video"]
    assert s["DevicePolicy"] == ["closed"]
    assert "char-video4linux rw" in s["DeviceAllow"]
    assert s["CapabilityBoundingSet"] == [""]
    assert s["SystemCallFilter"][0] == "@system-service"


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="no systemd-sysusers")
def test_sysusers_creates_a_nologin_user_in_group_video(repo_root, tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nvideo:x:44:\n")
    proc = subprocess.run(
        [
            "systemd-sysusers",
            f"--root={tmp_path}",
            str(repo_root / "systemd/gesturepilot.sysusers"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    user = next(
        u for u in (etc / "passwd").read_text().splitlines() if u.startswith("gesturepilot:")
    )
    assert user.endswith(":/var/lib/gesturepilot:/usr/sbin/nologin")
    assert "video:x:44:gesturepilot" in (etc / "group").read_text().splitlines()
