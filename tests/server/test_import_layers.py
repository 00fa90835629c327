"""The server's modules import each other one way only: no import circles.

Every module in ``server/`` is read (not imported) and each import it makes at run
time is an edge to the ``server`` module it names: module-level imports and imports
inside functions alike. An ``if TYPE_CHECKING:`` block is left out (it never runs),
and so is an ``if __name__ == "__main__":`` block (it runs only when the file is the
program, under the name ``__main__``, not when the module is imported). A circle is
reported with the modules in it, in import order, so the failure says what to cut."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "server"


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _never_runs_on_import(test: ast.expr) -> bool:
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run when the module is imported or called."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _never_runs_on_import(child.test):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            stack.append(child)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
                continue
            base = here[: len(here) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import services` names a module, not a value
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    targets.add(submodule)
                elif source in modules:
                    targets.add(source)
        targets.discard(name)
        graph[name] = targets
    return graph


def find_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that import each other, as a path
    that returns to its start."""
    return [_circle_in(group, graph) for group in import_groups(graph)]


def import_groups(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of two or more modules that each reach all the others by imports
    (strongly connected components, by Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def _circle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & group):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no circle in {sorted(group)}")


def test_server_has_no_import_circles():
    graph = import_graph(module_files())
    found = [f"{' -> '.join(_circle_in(group, graph))}  (in a circle: {', '.join(sorted(group))})"
             for group in import_groups(graph)]
    assert not found, "import circles in server/:\n" + "\n".join(found)


# The walker itself, on small packages written for the purpose: it must see the
# imports that make a circle, wherever they are written, and only those.

def write_package(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(module_files(root, "pkg"))


@pytest.mark.parametrize("a_imports_b", [
    "from . import b",
    "from .b import thing",
    "import pkg.b",
    "from pkg.b import thing",
    "def f():\n    from .b import thing\n",
    "class C:\n    def m(self):\n        from . import b\n",
    "try:\n    from .sub.c import x\nexcept ImportError:\n    pass\n",
])
def test_a_circle_is_found_and_named_whatever_the_import_looks_like(tmp_path, a_imports_b):
    target = "sub/c" if "sub.c" in a_imports_b else "b"
    graph = write_package(tmp_path, {
        "__init__.py": "", "sub/__init__.py": "", "a.py": a_imports_b,
        f"{target}.py": "from pkg import a\n",
    })
    name = "pkg." + target.replace("/", ".")
    assert find_circles(graph) == [["pkg.a", name, "pkg.a"]]


def test_relative_imports_resolve_from_the_package_of_the_module(tmp_path):
    graph = write_package(tmp_path, {
        "__init__.py": "", "x.py": "", "sub/__init__.py": "from .. import x\nfrom . import y\n",
        "sub/y.py": "from ..x import z\nfrom .. import sub\n",
    })
    assert graph["pkg.sub"] == {"pkg.x", "pkg.sub.y"}
    assert graph["pkg.sub.y"] == {"pkg.x", "pkg.sub"}
    assert find_circles(graph) == [["pkg.sub", "pkg.sub.y", "pkg.sub"]]


def test_imports_that_never_run_on_import_make_no_circle(tmp_path):
    graph = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nelse:\n    B = None\n",
        "b.py": "import typing\nif typing.TYPE_CHECKING:\n    from . import a\nif __name__ == '__main__':\n    from . import a\n",
        "c.py": "from . import b\n",
    })
    assert graph == {"pkg": set(), "pkg.a": set(), "pkg.b": set(), "pkg.c": {"pkg.b"}}
    assert find_circles(graph) == []


def test_a_longer_circle_is_named_in_import_order(tmp_path):
    graph = write_package(tmp_path, {
        "__init__.py": "", "a.py": "from . import b\n", "b.py": "from . import c\n",
        "c.py": "def late():\n    from . import a\n", "d.py": "from . import a\n",
    })
    assert find_circles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
