"""The first-party modules import each other without a cycle, and convert/ imports at the top."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("edge", "convert", "subscribers", "devtools")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_only(tree: ast.AST) -> set[ast.AST]:
    """The imports under `if TYPE_CHECKING:` (for the checker only, never run)."""
    return {
        inner
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for stmt in node.body
        for inner in ast.walk(stmt)
    }


def _imports(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    """First-party modules named by every import that runs in `tree`, function-local ones
    included (`if TYPE_CHECKING:` imports are not run, so they close no cycle)."""
    out = set()
    skip = _type_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in modules else node.module)
    return out & set(modules)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(ast.parse(path.read_text()), modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of module names, or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node] - {node}):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_first_party_module_imports_in_a_cycle() -> None:
    cycle = _cycle(_graph())
    assert not cycle, " -> ".join(cycle)


def test_convert_imports_its_own_modules_at_the_top() -> None:
    """Only TensorFlow, Keras and matplotlib are imported inside functions in convert/ (so that
    `gesture-convert --help` stays fast); every first-party import is at module level."""
    modules = _modules()
    local = []
    for name, path in modules.items():
        if not name.startswith("convert"):
            continue
        tree = ast.parse(path.read_text())
        top = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in top:
                named = _imports(ast.Module(body=[node], type_ignores=[]), modules)
                if named:
                    local.append(f"{path.relative_to(REPO)}:{node.lineno} {sorted(named)}")
    assert not local, "\n".join(local)
