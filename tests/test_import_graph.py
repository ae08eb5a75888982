"""First-party imports: no cycle, edge/ layers import downwards only, convert/ at the top."""

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


def _imports(tree: ast.AST, modules: dict[str, Path], typing: bool = False) -> set[str]:
    """First-party modules named by every import that runs in `tree`, function-local ones
    included (`if TYPE_CHECKING:` imports are not run, so they close no cycle); with `typing`,
    the `if TYPE_CHECKING:` ones too."""
    out = set()
    skip = set() if typing else _type_only(tree)
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


def _graph(typing: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imports(ast.parse(path.read_text()), modules, typing)
        for name, path in modules.items()
    }


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


# The layers of edge/, high to low: a module imports only its own package and lower layers,
# never a higher one nor a sibling on its own layer. The table is the README's package list.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("edge.service",),  # the CLI, the composition root, capture, preview, sd_notify
    ("edge.pipeline",),  # the daemon's stages and the loop
    ("edge.cameras", "edge.hands", "edge.link"),  # frames in, hands found, MQTT out
    ("edge.config",),  # the TOML config
    ("edge.model",),  # artefact, TFLite runtime and interpreter, crops
    ("edge", "edge.types", "edge.clock", "edge.closing", "edge.exits"),  # shared values
)
# The one module of edge/ that may import subscribers/: `gesture-edge subscribe`'s dispatch.
SUBSCRIBERS_DISPATCH = "edge.service.cli"


def _layer(module: str) -> tuple[int, str]:
    """(rank, part) of an edge/ module: rank 0 is the top layer; part is its package."""
    for rank, parts in enumerate(LAYERS):
        for part in sorted(parts, key=len, reverse=True):
            if module == part or (part != "edge" and module.startswith(part + ".")):
                return rank, part
    raise AssertionError(f"{module} is in no layer of LAYERS: add it to the table")


def test_every_edge_module_is_in_one_layer() -> None:
    for name in _modules():
        if name.split(".")[0] == "edge":
            _layer(name)


def test_edge_imports_only_downwards() -> None:
    """Runtime and `if TYPE_CHECKING:` imports alike: a type named upwards is an arrow too."""
    upward = []
    for name, targets in _graph(typing=True).items():
        if name.split(".")[0] != "edge":
            continue
        rank, part = _layer(name)
        for target in sorted(t for t in targets if t.split(".")[0] == "edge"):
            to_rank, to_part = _layer(target)
            if to_rank < rank or (to_rank == rank and to_part != part):
                upward.append(f"{name} -> {target}")
    assert not upward, "\n".join(upward)


def test_only_the_cli_dispatch_imports_subscribers() -> None:
    reach = sorted(
        f"{name} -> {target}"
        for name, targets in _graph(typing=True).items()
        if name.split(".")[0] == "edge" and name != SUBSCRIBERS_DISPATCH
        for target in targets
        if target.split(".")[0] == "subscribers"
    )
    assert not reach, reach


def test_the_cli_reaches_subscribers_only_inside_its_functions() -> None:
    """`gesture-edge run` never pays for the vehicle side: subscribers/ is imported lazily."""
    tree = ast.parse(_modules()[SUBSCRIBERS_DISPATCH].read_text())
    body = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    top = _imports(ast.Module(body=body, type_ignores=[]), _modules(), typing=True)
    assert not {t for t in top if t.split(".")[0] == "subscribers"}


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
