"""The shape ARCHITECTURE.md describes, checked on the source: features stand in
layers and import only those below them, every import of the project's own modules
sits at the top of its module (the app factory's registrations aside), and no two
modules import each other, directly or round a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "campaign"
# Lowest first: each may import the ground floor and the features before it.
GROUND = {"bounds", "config", "downloads", "extensions", "formatting", "forms", "logs", "mail",
          "paging", "security", "tasks", "types"}  # fmt: skip
FEATURES = ["directory", "auth", "drafting", "consultation", "signoff", "letters", "delivery"]
# Above every feature: pages and commands that show or drive several at once.
TOP = {"overview", "devtools", "demo", "demo_campaign", "cli", "health", "models", "retention",
       "__init__"}  # fmt: skip


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), str(path))
    return found


MODULES = _modules()


def _floor(module: str) -> tuple[int, str]:
    """(height, name): the ground floor is 0, features 1.., the top above them all."""
    part = (module.split(".") + ["__init__"])[1]
    if part in GROUND:
        return 0, part
    if part in FEATURES:
        return 1 + FEATURES.index(part), part
    assert part in TOP, f"{module} is in no layer: add it to GROUND, FEATURES or TOP"
    return len(FEATURES) + 1, part


def _own_imports(tree: ast.Module):
    """Every import of the project's own modules: (node, imported module names)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "campaign":
                yield node, [f"campaign.{alias.name}" for alias in node.names]
            elif node.module.startswith("campaign."):
                yield node, [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("campaign")]
            if names:
                yield node, names


def _resolve(name: str) -> str:
    """The module an import names: `from campaign import create_app` is `campaign`."""
    return name if name in MODULES else name.rsplit(".", 1)[0]


def _at_top(tree: ast.Module, node: ast.AST) -> bool:
    return any(node is statement for statement in tree.body)


def _in_app_factory(module: str, tree: ast.Module, node: ast.AST) -> bool:
    """campaign/__init__.py registers every feature inside create_app's helpers."""
    if module != "campaign":
        return False
    return any(
        isinstance(f, ast.FunctionDef) and f.name.startswith("register_") and node in ast.walk(f)
        for f in tree.body
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_own_import_is_at_the_top_of_its_module(module):
    tree = MODULES[module]
    inside = [
        f"line {node.lineno}: {', '.join(names)}"
        for node, names in _own_imports(tree)
        if not _at_top(tree, node) and not _in_app_factory(module, tree, node)
    ]
    assert inside == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module):
    tree = MODULES[module]
    height, name = _floor(module)
    upward = [
        f"line {node.lineno}: {target}"
        for node, names in _own_imports(tree)
        if not _in_app_factory(module, tree, node)
        for target in map(_resolve, names)
        if _floor(target)[0] > height
    ]
    assert upward == [], f"{module} ({name}) imports above itself"


def test_no_import_cycle():
    graph = {
        module: {_resolve(t) for node, names in _own_imports(tree) for t in names} - {module}
        for module, tree in MODULES.items()
    }
    graph["campaign"] = set()  # the app factory's imports run only when it is called
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
