"""The import graph of engine/ and gui/, read from the source (module-level imports and those inside functions).

The engine stands in layers a reader can hold in the head: the map in ``engine/__init__.py`` lists them top
to bottom and every import points down it or stays in its layer; no module imports itself back round a circle,
no chain of imports is longer than six modules, and the model and its training never reach the
data-downloading code (so they work on arrays from anywhere).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_CHAIN = 6
MODEL_AND_TRAINING = [
    "engine.activations", "engine.initializers", "engine.layers", "engine.nn", "engine.summary",
    "engine.losses", "engine.optimizers", "engine.steps", "engine.tensor_parallel", "engine.shared_memory",
    "engine.contention",
    "engine.subnormals", "engine.training", "engine.callbacks",
    "engine.checkpoint", "engine.histograms",
]  # fmt: skip
DATA_FETCHING = {"engine.download", "engine.idx", "engine.dataset"}


def modules(package: str) -> dict[str, Path]:
    """{"engine.nn": path, "engine.cli.train": path, ...}, subpackages included; a package's __init__ is the package."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = [package, *path.relative_to(ROOT / package).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(path: Path, package: str, known: set[str]) -> set[str]:
    """Modules of ``package`` that a file imports anywhere in it (``from engine import x`` counts x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n for n in names if n in known and n.split(".")[0] == package)
    return found


@cache
def graph(package: str) -> dict[str, set[str]]:
    mods = modules(package)
    return {name: imports_of(path, package, set(mods)) - {name, package} for name, path in mods.items()}


def longest_chain(edges: dict[str, set[str]]) -> list[str]:
    """The longest import chain (a path in the graph, which has no cycle)."""

    @cache
    def longest_from(node: str) -> tuple[str, ...]:
        tails = [longest_from(n) for n in edges[node]]
        return (node, *max(tails, key=len, default=()))

    return list(max((longest_from(n) for n in edges), key=len))


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("package", ["engine", "gui"])
def test_no_import_circle(package):
    assert find_cycle(graph(package)) is None


def rooms(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph with each subpackage as one node (``engine.cli.train`` is ``engine.cli``): a package is one room
    of the engine, whatever its modules import among themselves."""
    def room(name: str) -> str:
        parts = name.split(".")
        return ".".join(parts[:2]) if len(parts) > 2 else name

    merged: dict[str, set[str]] = {}
    for name, out in edges.items():
        merged.setdefault(room(name), set()).update(room(m) for m in out)
    return {name: out - {name} for name, out in merged.items()}


def test_the_longest_chain_of_engine_imports_is_at_most_six_modules():
    edges = rooms(graph("engine"))
    edges.pop("engine.__main__")  # ``python -m engine``: one line that calls the CLI, not a room of its own
    chain = longest_chain(edges)
    assert len(chain) <= MAX_CHAIN, " -> ".join(chain)


@pytest.mark.parametrize("module", MODEL_AND_TRAINING)
def test_the_model_and_training_never_reach_the_data_files_or_the_download(module):
    assert module in graph("engine")
    assert not reachable(graph("engine"), module) & DATA_FETCHING


def test_the_engine_never_imports_qt_or_the_app():
    for path in modules("engine").values():
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [n for n in names if n.split(".")[0] in ("PySide6", "pyqtgraph", "gui")], path.name


def test_the_graph_reader_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from engine.nn import MLP\n    import engine.idx\n")
    assert imports_of(source, "engine", {"engine.nn", "engine.idx"}) == {"engine.nn", "engine.idx"}


def engine_map() -> list[tuple[str, set[str]]]:
    """The layers of ``engine/__init__.py``'s map, top first: (name, modules) from its ``- name: ``mod``…`` items."""
    doc = ast.get_docstring(ast.parse((ROOT / "engine" / "__init__.py").read_text()))
    layers = []
    for item in re.split(r"\n- ", doc)[1:]:
        name, _, rest = item.partition(":")
        layers.append((name.strip(), {f"engine.{m}" for m in re.findall(r"``([a-z_]+)``", rest.split("\n\n")[0])}))
    return layers


def layer_of(module: str) -> int:
    """The map's layer (0 = top) holding ``module`` (a subpackage's module is in its package's layer)."""
    for index, (_, members) in enumerate(engine_map()):
        if module in members or any(module.startswith(m + ".") for m in members):
            return index
    raise AssertionError(f"{module} is not in the map in engine/__init__.py: add it to the layer it belongs to")


def test_every_engine_module_is_in_the_map_once():
    listed = [m for _, members in engine_map() for m in members]
    assert len(listed) == len(set(listed)), "a module is listed in two layers"
    assert set(listed) <= set(graph("engine")), f"not modules: {set(listed) - set(graph('engine'))}"
    for module in graph("engine"):
        if module != "engine":
            layer_of(module)


def test_every_engine_import_points_down_the_map_or_stays_in_its_layer():
    names = [name for name, _ in engine_map()]
    upward = [
        f"{a} ({names[layer_of(a)]}) imports {b} ({names[layer_of(b)]})"
        for a, targets in graph("engine").items() if a != "engine"
        for b in targets if layer_of(b) < layer_of(a)
    ]  # fmt: skip
    assert not upward, "imports against the map:\n" + "\n".join(upward)


def test_the_map_reader_finds_an_upward_import():
    assert layer_of("engine.nn") < layer_of("engine.training") < layer_of("engine.layers")
    assert layer_of("engine.cli.train") == layer_of("engine.cli") == 0
