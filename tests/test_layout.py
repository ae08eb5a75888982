"""The size rules of edge/ and convert/: modules ≤ 300 lines, each module and package documented."""

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


def test_every_folder_of_edge_is_a_package_with_a_docstring() -> None:
    """No namespace folder: each part of edge/ says its one job in its `__init__.py`."""
    folders = {p.parent for p in MODULES if p.is_relative_to(REPO / "edge")}
    bare = [str(f.relative_to(REPO)) for f in sorted(folders) if not (f / "__init__.py").is_file()]
    assert not bare, bare


def test_no_module_is_longer_than_300_lines() -> None:
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in MODULES}
    assert not {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES}
