"""Figures for README and docs, generated from the committed metric files (never typed by hand).

`python -m convert.figures` (`make figures`) rewrites every block between
`<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in README.md and docs/*.md from
`models/gestures-landmarks.json` and `models/gestures-landmarks-sequences.json`;
`--check` exits 1 when a block is stale (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL_JSON = Path("models/gestures-landmarks.json")
SEQUENCES_JSON = Path("models/gestures-landmarks-sequences.json")
DOCS = (Path("README.md"), Path("docs/hands.md"))
BLOCK = re.compile(
    r"(<!-- figures:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /figures:(?P=name) -->)", re.S
)


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


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
            "unasked motion",
            pct(lock["unasked_motion_rate"]),
            "",
            pct(loso["unasked_motion_rate"]) if loso else "–",
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


def sequences(seq: dict[str, Any]) -> list[str]:
    """The robot's view of the replayed camera sequences."""
    rows = [
        [
            f"`{name}`",
            f"{r['seconds']:.1f} s",
            pct(r["in_command"]),
            pct(r["in_command_after_reaction"]),
            f"{r['unasked_motion_s']:.1f} s",
        ]
        for name, r in seq["sequences"].items()
    ]
    t = seq["total"]
    rows.append(
        [
            "**all**",
            f"{t['seconds']:.1f} s",
            f"**{pct(t['in_command'])}**",
            f"**{pct(t['in_command_after_reaction'])}**",
            f"**{t['unasked_motion_s']:.1f} s**",
        ]
    )
    out = table(
        [
            "sequence",
            "length",
            "in the asked command",
            f"after {seq['reaction_s']:g} s",
            "unasked motion",
        ],
        rows,
    )
    return [
        *out,
        "",
        f"At {seq['fps']:g} fps through `{seq['config']}`'s pipeline with `{seq['model']}`; "
        f"{t['unasked_motion_s_within_reaction']:.1f} s of motion carried past a release "
        f"within the {seq['reaction_s']:g} s reaction time.",
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
        f"{pct(cost['validation_unasked_motion_rate'])} (plain argmax "
        f"{pct(plain['unasked_motion_rate'])}), motion recall "
        f"{pct(cost['validation_motion_recall'])} (plain argmax {pct(plain['motion_recall'])}).",
    ]


def blocks(root: Path) -> dict[str, Callable[[], list[str]]]:
    meta = json.loads((root / MODEL_JSON).read_text())
    seq_path = root / SEQUENCES_JSON
    seq = json.loads(seq_path.read_text()) if seq_path.is_file() else None
    out: dict[str, Callable[[], list[str]]] = {
        "recognition": lambda: headline(meta),
        "sources": lambda: per_source(meta),
        "decision": lambda: decision(meta),
    }
    if seq is not None:
        out["sequences"] = lambda: sequences(seq)
    return out


def render(text: str, makers: dict[str, Callable[[], list[str]]]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in makers:
            return match.group(0)
        return match.group(1) + "\n".join(makers[name]()) + "\n" + match.group(4)

    return BLOCK.sub(one, text)


def main(argv: list[str] | None = None) -> int:
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
