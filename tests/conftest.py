"""Shared test fixtures: paths to the repository and to ../shared's real datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

# Fixtures per real thing live in tests/fixtures/ (tests/ is on sys.path: no __init__.py here).
pytest_plugins = ["fixtures.convert", "fixtures.broker", "fixtures.hands", "fixtures.service"]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("GESTUREPILOT_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def datasets() -> Path:
    if not (DATASETS / "subhih-hands" / "boxes.csv").is_file():
        pytest.fail(f"real datasets not found at {DATASETS} (set GESTUREPILOT_SHARED)")
    return DATASETS
