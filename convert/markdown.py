"""Markdown pieces the report and the README/docs figures share: percentages and tables."""

from __future__ import annotations


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal ("–" when unknown)."""
    return "–" if x is None else f"{100 * x:.1f} %"


def pct2(x: float | None) -> str:
    """A share as a percentage with two decimals ("–" when unknown)."""
    return "–" if x is None else f"{100 * x:.2f} %"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]
