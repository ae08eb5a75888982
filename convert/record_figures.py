"""README/docs figures from committed run records: the demo output and the fresh-clone CI run."""

from __future__ import annotations

import json
from pathlib import Path


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
