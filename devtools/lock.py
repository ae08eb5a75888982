"""`make lock`: the device side's dependencies pinned with sha256s, per platform and Python."""

from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomllib
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
LOCKS = REPO / "locks"
WHEELHOUSE = REPO / "build" / "wheelhouse"  # gitignored: what `make lock` downloaded, per target


@dataclass(frozen=True)
class Target:
    """One device platform: CPU, CPython, the newest glibc it has, the numpy apt ships there."""

    machine: str  # x86_64 | aarch64
    python: str  # "3.11"
    glibc: int  # minor version of glibc 2.x: the newest manylinux tag the device takes
    numpy: str = ""  # apt's python3-numpy on that OS (picamera2 is built against it)

    @property
    def name(self) -> str:
        return f"edge-linux-{self.machine}-cp{self.python.replace('.', '')}"

    @property
    def lock(self) -> Path:
        return LOCKS / f"{self.name}.txt"

    def platforms(self, newest: bool = True) -> list[str]:
        """manylinux tags best first (`newest`), or the oldest ones (another file pip may pick)."""
        top = self.glibc if newest else 17
        tags = [f"manylinux_2_{m}_{self.machine}" for m in range(top, 16, -1)]
        return [*tags, f"manylinux2014_{self.machine}"]

    def environment(self) -> dict[str, str]:
        """The marker environment of the device, for pyproject's `; python_version ...` parts."""
        env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
        env.update(
            platform_machine=self.machine,
            python_version=self.python,
            python_full_version=f"{self.python}.0",
            sys_platform="linux",
            platform_system="Linux",
            implementation_name="cpython",
            platform_python_implementation="CPython",
        )
        return env


# Raspberry Pi OS Bookworm (Debian 12: Python 3.11, glibc 2.36, numpy 1.24.2) and Trixie (Debian
# 13: Python 3.13, glibc 2.41, numpy 2.2.4); x86_64 the same Debian releases, numpy from PyPI.
TARGETS = (
    Target("x86_64", "3.11", 36),
    Target("x86_64", "3.13", 41),
    Target("aarch64", "3.11", 36, numpy="1.24.2"),
    Target("aarch64", "3.13", 41, numpy="2.2.4"),
)


def device_requirements(pyproject: Path = REPO / "pyproject.toml") -> list[Requirement]:
    """What a device installs: `[project] dependencies` and the `edge` extra (not the project)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = [
        Requirement(r)
        for r in (*project["dependencies"], *project["optional-dependencies"]["edge"])
    ]
    return [r for r in reqs if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def read_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, [sha256, ...])} of a lock file written by `write_lock`."""
    out: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for raw in path.read_text().splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            out[name][1].append(line.removeprefix("--hash=sha256:"))
        else:
            pinned, _, version = line.partition("==")
            name = canonicalize_name(pinned)
            out[name] = (version, [])
    return out


def _download(
    args: list[str], target: Target, platforms: list[str], dest: Path, check: bool = True
) -> list[Path]:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(dest)]
    cmd += [f"--platform={p}" for p in platforms]
    cmd += ["--python-version", target.python, "--implementation", "cp"]
    quiet = {} if check else {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*cmd, *args], check=check, **quiet)  # type: ignore[call-overload]
    return sorted(dest.glob("*.whl"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock(target: Target) -> Path:
    """Resolve, download and hash the device side for `target`; write its lock file."""
    env = target.environment()
    reqs = [str(r) for r in device_requirements() if r.marker is None or r.marker.evaluate(env)]
    reqs = [r.split(";")[0].strip() for r in reqs]
    if target.numpy:
        reqs.append(f"numpy=={target.numpy}")
    house = WHEELHOUSE / target.name
    house.mkdir(parents=True, exist_ok=True)
    for old in house.glob("*.whl"):
        old.unlink()
    wheels = _download(reqs, target, target.platforms(), house)
    pins = {canonicalize_name(parse_wheel_filename(w.name)[0]): w for w in wheels}
    hashes = {name: {_sha256(w)} for name, w in pins.items()}
    # An older device (glibc 2.17-2.27) picks the oldest-manylinux file of the same version,
    # where the release has one: its hash too.
    for name, wheel in pins.items():
        if "manylinux" not in wheel.name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            pin = [f"{name}=={parse_wheel_filename(wheel.name)[1]}", "--no-deps"]
            for w in _download(pin, target, target.platforms(False), Path(tmp), check=False):
                hashes[name].add(_sha256(w))
    lines = [
        f"# {target.name}: pyproject.toml's [project] dependencies + [edge] for Linux",
        f"# {target.machine}, CPython {target.python}, glibc 2.17-2.{target.glibc}, wheels only.",
        "# Written by `make lock` (devtools/lock.py); installed with pip --require-hashes.",
    ]
    for name in sorted(pins):
        version = parse_wheel_filename(pins[name].name)[1]
        lines.append(f"{name}=={version} \\")
        lines += [f"    --hash=sha256:{h} \\" for h in sorted(hashes[name])]
        lines[-1] = lines[-1].removesuffix(" \\")
    target.lock.parent.mkdir(exist_ok=True)
    target.lock.write_text("\n".join(lines) + "\n")
    log.info("%s: %d packages", target.lock.relative_to(REPO), len(pins))
    return target.lock


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.lock", description=__doc__)
    p.add_argument("--only", choices=[t.name for t in TARGETS], action="append")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for target in TARGETS:
        if not args.only or target.name in args.only:
            lock(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
