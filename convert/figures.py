"""Figures for README and docs, generated from the committed metric files (never typed by hand)."""

# `python -m convert.figures` (`make figures`) rewrites every block between
# `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in README.md and docs/*.md from
# `models/gestures-landmarks.json` and `models/gestures-landmarks-sequences.json`;
# `--check` exits 1 when a block is stale (the test suite runs it).

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convert.figures_bench import hand_int8, speed
from convert.figures_scenes import BODY_COST_JSON, SCENES_JSON, body_cost, scenes
from convert.markdown import pct, pct2, table
from convert.record_figures import ci, demo, held
from edge.hands.decide import MOTION, SAFE

MODEL_JSON = Path("models/gestures-landmarks.json")
SEQUENCES_JSON = Path("models/gestures-landmarks-sequences.json")
DOCS = (
    Path("README.md"),
    Path("docs/hands.md"),
    Path("docs/daemon.md"),
    Path("docs/results.md"),
    Path("docs/integrations.md"),
    Path("docs/safety.md"),
)  # and the bench files in bench/
BLOCK = re.compile(
    r"(<!-- figures:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /figures:(?P=name) -->)", re.S
)


def _unasked_counts(confusion: list[list[int]], labels: list[str]) -> tuple[int, int]:
    """(safe hands read as a motion, safe hands) from a confusion matrix."""
    safe = [labels.index(c) for c in SAFE if c in labels]
    motion = [labels.index(c) for c in MOTION if c in labels]
    return sum(confusion[i][j] for i in safe for j in motion), sum(sum(confusion[i]) for i in safe)


def _pair(p: dict[str, Any] | None) -> str:
    return "none" if not p else f"`{p['true']}` → `{p['predicted']}` ({p['count']})"


def headline(meta: dict[str, Any]) -> list[str]:
    """Lockbox and leave-one-source-out, per class, with the safety figure."""
    m = meta["metrics"]
    lock, loso = m["lockbox"], m.get("leave_one_source_out_summary")
    labels = meta["labels"]
    rows = [
        [
            f"`{c}`",
            pct(lock["per_class_recall"].get(c)),
            str(lock["per_class"][c]["support"]),
            pct(loso["per_class_recall"].get(c)) if loso else "–",
        ]
        for c in labels
    ]
    rows.append(
        [
            "**all**",
            f"**{pct(lock['accuracy'])}**",
            str(lock["size"]),
            f"**{pct(loso['accuracy'])}**" if loso else "–",
        ]
    )
    rows.append(
        [
            "**unasked motion** (safe hands read as a motion)",
            f"**{pct2(lock['unasked_motion_rate'])}**",
            "{} of {}".format(*_unasked_counts(lock["confusion"], labels)),
            pct2(loso["unasked_motion_rate"]) if loso else "–",
        ]
    )
    out = table(["class", "lockbox recall (int8)", "lockbox hands", "leave-one-source-out"], rows)
    out += [
        "",
        f"Lockbox: {lock['size']} hands of {len(lock['sources'])} sources never used for any "
        f"choice; float {pct(lock['float_accuracy'])}, int8 {pct(lock['accuracy'])}, "
        f"agreement {pct(lock['agreement'])}. Unasked motion = share of `stop`/`none`/`fist` "
        f"hands read as up/down/left/right; worst pair on the lockbox: "
        f"{_pair(lock['worst_unasked_pair'])}.",
    ]
    if loso:
        w = loso["worst_source"]
        out += [
            f"Leave-one-source-out ({loso['method']}): {loso['size']} hands; worst source "
            f"`{w['source']}` {pct(w['accuracy'])}; worst pair "
            f"{_pair(loso['worst_unasked_pair'])}.",
        ]
    return out


def per_source(meta: dict[str, Any]) -> list[str]:
    """Every source's leave-one-source-out accuracy, worst first."""
    m = meta["metrics"]
    loso, summary = m.get("leave_one_source_out", {}), m.get("leave_one_source_out_summary", {})
    counts = summary.get("rows_per_source", {})
    rows = [
        [f"`{s}`", pct(a), str(counts.get(s, ""))]
        for s, a in sorted(loso.items(), key=lambda kv: (kv[1], kv[0]))
    ]
    return table(["source", "accuracy (model trained without it)", "hands"], rows)


def _sequence_row(name: str, r: dict[str, Any], bold: bool = False) -> list[str]:
    def b(text: str) -> str:
        return f"**{text}**" if bold else text

    return [
        name,
        f"{r['seconds']:.1f} s",
        b(pct(r["in_command"])),
        b(pct(r["in_command_after_reaction"])),
        b(f"{r['unasked_motion_s']:.1f} s"),
    ]


def sequences(seq: dict[str, Any]) -> list[str]:
    """The robot's view of the replayed camera sequences."""
    t = seq["total"]
    rows = [_sequence_row(f"`{name}`", r) for name, r in seq["sequences"].items()]
    kinds = seq.get("by_kind", {})
    rows += [_sequence_row(f"*{kind.replace('_', ' ')}*", k) for kind, k in kinds.items()]
    rows.append(_sequence_row("**all**", t, bold=True))
    header = ["sequence", "length", "in the asked command", f"after {seq['reaction_s']:g} s"]
    return [
        *table([*header, "unasked motion"], rows),
        "",
        f"At {seq['fps']:g} fps through `{seq['config']}`'s pipeline with `{seq['model']}`. "
        '"In the asked command" counts every frame, so each change of gesture costs the '
        "smoother's deliberate lag (3-5 frames); the next column leaves out the first "
        f"{seq['reaction_s']:g} s after each change. Motion carried past a release within that "
        f"reaction time: {t['unasked_motion_s_within_reaction']:.1f} s in all. The still photos "
        "(shimaazizi-4gest, each held for a moment) ask for no motion: they measure only that "
        "the car never moves for a fist, a palm, a V or a thumbs-up.",
    ]


def decision(meta: dict[str, Any]) -> list[str]:
    """The shipped decision rule and what it costs."""
    d, cost = meta["decision"], meta["source"]["choices"]["decision_cost"]
    plain = cost["plain_argmax"]
    return [
        f"Shipped rule: a motion needs a score ≥ {d['min_motion_score']:g}, a lead of "
        f"{d['motion_margin']:g} over the best of stop/none/fist and an index finger stretched "
        f"(reach ≥ {d['min_index_reach']:g}); any top score below {d['reject_below']:g} is "
        f"`none`. Chosen on {cost['chosen_on']}: unasked motion "
        f"{pct2(cost['validation_unasked_motion_rate'])} (plain argmax "
        f"{pct2(plain['unasked_motion_rate'])}), hard views that drove "
        f"{pct2(cost['hard_views_unasked_motion_rate'])} of {cost['hard_views']} (plain argmax "
        f"{pct2(plain['hard_views_unasked_motion_rate'])}); the price: motion recall "
        f"{pct(cost['validation_motion_recall'])} (plain argmax {pct(plain['motion_recall'])}).",
    ]


def blocks(root: Path) -> dict[str, Callable[[], list[str]]]:
    """Every figure block by name, from the files under `root`."""
    meta = json.loads((root / MODEL_JSON).read_text())
    seq_path = root / SEQUENCES_JSON
    seq = json.loads(seq_path.read_text()) if seq_path.is_file() else None
    out: dict[str, Callable[[], list[str]]] = {
        "recognition": lambda: headline(meta),
        "sources": lambda: per_source(meta),
        "decision": lambda: decision(meta),
        "speed": lambda: speed(root),
        "handint8": lambda: hand_int8(root),
        "demo": lambda: demo(root),
    }
    if seq is not None:
        out["sequences"] = lambda: sequences(seq)
    if (root / SCENES_JSON).is_file():
        out["scenes"] = lambda: scenes(root)
    if (root / BODY_COST_JSON).is_file():
        out["body-cost"] = lambda: body_cost(root)
    if (root / "bench/held.json").is_file():
        out["held"] = lambda: held(root)
    if (root / "bench/ci-fresh-clone.json").is_file():
        out["ci"] = lambda: ci(root)
    return out


def render(text: str, makers: dict[str, Callable[[], list[str]]]) -> str:
    """`text` with every known block rewritten by its maker."""

    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in makers:
            return match.group(0)
        return match.group(1) + "\n".join(makers[name]()) + "\n" + match.group(4)

    return BLOCK.sub(one, text)


def main(argv: list[str] | None = None) -> int:
    """`make figures` (rewrite the blocks) or `--check` (1 when one is stale)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("."))
    p.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    args = p.parse_args(argv)
    makers = blocks(args.root)
    stale = []
    for doc in DOCS:
        path = args.root / doc
        text = path.read_text()
        new = render(text, makers)
        if new != text:
            stale.append(str(doc))
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        sys.stderr.write(f"figures out of date in {', '.join(stale)}: run `make figures`\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
