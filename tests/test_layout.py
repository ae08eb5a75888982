"""The size rules of edge/ and convert/: modules ≤ 300 lines with a one-line docstring."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(p for package in ("edge", "convert") for p in (REPO / package).rglob("*.py"))
MAX_MODULE_LINES = 300


def test_every_module_has_a_one_line_docstring() -> None:
    bad = []
    for path in MODULES:
        doc = ast.get_docstring(ast.parse(path.read_text()), clean=False)
        if not doc or "\n" in doc.strip():
            bad.append(str(path.relative_to(REPO)))
    assert not bad, bad


def test_no_module_is_longer_than_300_lines() -> None:
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in MODULES}
    assert not {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES}
