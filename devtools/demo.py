"""`make demo`: a private broker, the simulated car, and the daemon replaying real camera frames.

By default the daemon runs the shipped pipeline (configs/demo.toml: the default model, the
MediaPipe hand tracker on whole frames, devtools.scripted_frames). `--crops` replays centred hand
crops through the fixed box instead (devtools.scripted), e.g. for the image model:
`python -m devtools.demo --crops --model models/gestures-image.tflite`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (JetPack 6)
    import tomli as tomllib

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devtools.demo_media import TracedCar, write_animation, write_path
from devtools.localbroker import LocalBroker
from devtools.scripted import DEMO_SCRIPT, eval_sessions, write_sequence
from devtools.scripted_frames import DEMO_FRAMES_SCRIPT, write_frame_sequence
from edge.config.paths import default_model_path
from edge.model.artifact import read_meta
from edge.pipeline.commands import CommandMap

log = logging.getLogger("demo")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(os.environ.get("GESTUREPILOT_SHARED", REPO.parent / "shared"))


def dump_toml(data: dict[str, Any]) -> str:
    """A config dict (sections of scalars, lists and one level of sub-tables) as TOML text."""
    lines: list[str] = []
    for section, table in data.items():
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items() if k not in subtables]
        for name, sub in subtables.items():
            lines.append(f"[{section}.{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in sub.items()]
    return "\n".join(lines) + "\n"


class Narrator:
    """Logs what the daemon publishes besides commands: its status and gesture changes."""

    def __init__(self, host: str, port: int, root: str) -> None:
        self.started = time.monotonic()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *a: c.subscribe(
            [(f"{root}/status", 1), (f"{root}/gesture", 0)]
        )
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        text = msg.payload.decode()
        if msg.topic.endswith("/gesture"):
            g = json.loads(text)
            text = f"sees {g['gesture']} ({g['confidence']:.2f})"
        log.info("  daemon: %s", text)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _resolve(cfg: dict[str, Any], base: Path) -> None:
    """Make the config's model paths absolute, relative to the config file's folder."""
    model = cfg.setdefault("model", {})
    model["path"] = str((base / model.get("path", default_model_path())).resolve())
    locate = cfg.setdefault("locate", {})
    for key in ("palm_model", "landmark_model"):
        if locate.get(key):
            locate[key] = str((base / locate[key]).resolve())


def write_frames(
    args: argparse.Namespace, cfg: dict[str, Any], frames: Path
) -> tuple[tuple[str, int], ...]:
    """Write the demo's frames (whole frames, or crops with `--crops`); returns the script."""
    meta = read_meta(cfg["model"]["path"])
    groups = eval_sessions(meta.raw)  # sessions the model never trained on
    if args.crops:
        cfg["locate"] = {"method": "fixed"}
        margin = meta.input.crop_margin
        write_sequence(args.datasets, frames, DEMO_SCRIPT, margin, seed=args.seed, sessions=groups)
        return DEMO_SCRIPT
    write_frame_sequence(args.datasets, frames, DEMO_FRAMES_SCRIPT, seed=args.seed, groups=groups)
    return DEMO_FRAMES_SCRIPT


def pictures(args: argparse.Namespace, drawn: Path, car: TracedCar) -> None:
    """The animation of what the daemon saw and the car did, and the car's path; says where."""
    if not (drawn / "frames.csv").is_file():
        log.warning("no frames were recorded: no animation")
        return
    gif, shown = write_animation(drawn, car.events, args.out / "demo.gif", args.fps)
    drawn_frames = len(list(drawn.glob("*.png")))
    log.info(
        "animation: %s (%d KB; %d of the %d frames the daemon drew)",
        _shown(gif),
        gif.stat().st_size // 1024,
        shown,
        drawn_frames,
    )
    title = f"simulated car, make demo (seed {args.seed}): " + (
        ", ".join(c for c, _ in car.actions if c != "stop") or "never moved"
    )
    png = write_path(car.events, args.out / "demo-path.png", title)
    log.info("car's path: %s", _shown(png))


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the daemon's exit code."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=DEFAULT_SHARED / "datasets")
    p.add_argument("--config", type=Path, default=REPO / "configs" / "demo.toml")
    p.add_argument("--broker", help="HOST:PORT of a broker to use instead of a private mosquitto")
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0, help="picks the replayed frames")
    p.add_argument("--model", type=Path, help="gesture model (default: the config's, or shipped)")
    p.add_argument(
        "--crops", action="store_true", help="centred hand crops + fixed box, not whole frames"
    )
    p.add_argument(
        "--out", type=Path, default=REPO / "build" / "demo", help="where the pictures go"
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(relativeCreated)6.0f ms  %(message)s")
    boxes = args.datasets / "subhih-hands" / "boxes.csv"
    if not boxes.is_file():
        log.error(
            "%s not found: the demo replays real frames from ../shared/datasets "
            "(make demo DATASETS=/path/to/datasets)",
            boxes,
        )
        return 2
    cfg = tomllib.loads(args.config.read_text())
    if args.model:
        cfg.setdefault("model", {})["path"] = str(args.model.resolve())
    _resolve(cfg, args.config.parent)
    profile = cfg.get("commands", {}).get("profile", "car")
    with tempfile.TemporaryDirectory(prefix="gesturepilot-demo-") as tmp:
        frames = Path(tmp) / "frames"
        script = write_frames(args, cfg, frames)
        locate = cfg.get("locate", {}).get("method", "fixed")
        log.info(
            "model %s, locate %s; replaying %d real %s at %.0f fps: %s",
            Path(cfg["model"]["path"]).name,
            locate,
            sum(n for _, n in script),
            "hand crops" if args.crops else "camera frames",
            args.fps,
            ", ".join(f"{g}×{n}" for g, n in script),
        )
        broker = None
        if args.broker:
            host, _, port = args.broker.rpartition(":")
        else:
            broker = LocalBroker().start()
            host, port = broker.host, str(broker.port)
        cfg.setdefault("camera", {}).update(backend="replay", path=str(frames), fps=args.fps)
        cfg.setdefault("mqtt", {}).update(host=host, port=int(port))
        device = cfg["mqtt"].setdefault("device_id", "demo")
        config = Path(tmp) / "demo.toml"
        config.write_text(dump_toml(cfg))
        narrator = Narrator(host, int(port), f"gesturepilot/{device}")
        car = TracedCar(host, int(port), device, timeout=1.0)
        car.start()
        try:
            cmd = [  # gesture-edge run, with a recorder of what it sees (devtools/demo_record.py)
                sys.executable,
                "-m",
                "devtools.demo_record",
                "--out",
                str(Path(tmp) / "drawn"),
                "--",
                "--log-level",
                "WARNING",
                "run",
                "--config",
                str(config),
            ]
            rc = subprocess.run(cmd, check=False, timeout=300).returncode
            time.sleep(0.5)  # let the last stop and `offline` arrive
        finally:
            car.close()
            narrator.close()
            if broker:
                broker.close()
        pictures(args, Path(tmp) / "drawn", car)
    commands = CommandMap(profile)
    expected = [c for c in (commands.command_for(g) for g, _ in script) if c]
    moves = [c for c, _ in car.actions if c != "stop"]
    log.info("daemon exited with %d", rc)
    log.info("car moved: %s", ", ".join(moves) or "(never)")
    log.info("script asked for: %s", ", ".join(c for c in expected if c != "stop"))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
