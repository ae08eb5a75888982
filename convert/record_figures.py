"""README/docs figures from committed run records: the demo, the fresh-clone CI run, eval-held."""

from __future__ import annotations

import json
from pathlib import Path

from convert.markdown import table


def demo(root: Path) -> list[str]:
    """The start and the end of the committed `make demo` output (`bench/demo-output.txt`)."""
    lines = (root / "bench/demo-output.txt").read_text().splitlines()
    shown = [ln for ln in lines if " car: " in ln or "replaying" in ln or "sees" in ln]
    last = lines[-1].split("ms")[0].strip()
    return [
        f"Recorded in `bench/demo-output.txt` (the whole run took {int(last) / 1000:.0f} s, "
        "plus the venv on the first run):",
        "",
        "```",
        *shown[:6],
        "  ...",
        *lines[-2:],
        "```",
    ]


def ci(root: Path) -> list[str]:
    """The committed record of the last fresh-clone `bash .ci/run` (`bench/ci-fresh-clone.json`)."""
    run = json.loads((root / "bench/ci-fresh-clone.json").read_text())
    return [
        f"`make test` (what CI runs: ruff, `mypy --strict edge`, mypy on the rest, then pytest) "
        f"took {run['wall_s'] // 60} min {run['wall_s'] % 60} s on a fresh clone on 2 cores with "
        f"pip's cache warm ({run['date']}, commit `{run['commit']}`: {run['passed']} tests, exit "
        f"{run['rc']}; recorded in `bench/ci-fresh-clone.json`)."
    ]


def held(root: Path) -> list[str]:
    """Held-gesture reuse, off against the setting validation chose (`bench/held.json`)."""
    run = json.loads((root / "bench/held.json").read_text())
    chosen = run["chosen"]
    rows = []
    cases = [
        (
            "validation, held",
            run["validation_held"]["reuse0_t0"],
            run["validation_held"][chosen["key"]],
        )
    ]
    for case in ("held", "moving"):
        lock = run["lockbox"]
        cases.append((f"lockbox, {case}", lock["off"][case], lock["chosen"][case]))
    for name, off, on in cases:
        rows.append(
            [
                f"{name} ({on['frames']} frames)",
                f"{100 * off['in_command']:.1f} % → {100 * on['in_command']:.1f} %",
                f"{off['reaction_frames_mean']:.2f} → {on['reaction_frames_mean']:.2f}",
                f"{off['unasked_motion_s']:g} s → {on['unasked_motion_s']:g} s",
                f"{100 * on['reused_share']:.1f} %",
            ]
        )
    header = [
        "sequences",
        "in the asked command",
        "reaction (frames, mean)",
        "unasked motion",
        "hand reads reused",
    ]
    return [
        *table(header, rows),
        "",
        f"Off → `still_reuse = {chosen['still_reuse']}`, `still_threshold = "
        f"{chosen['still_threshold']:g}` (chosen on the validation sessions "
        f"{', '.join(run['validation_groups'])}; the lockbox sessions never chose). Held: each "
        f"real frame shown {run['hold']} times at {run['fps_held']:g} FPS with fresh sensor noise "
        f"(σ {run['noise']:g} grey levels); moving: the same frames once each at "
        f"{run['fps_moving']:g} FPS. `make eval-held` ({run['wall_s'] / 60:.0f} min).",
    ]
