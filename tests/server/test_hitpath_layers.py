"""The hit path reads one way: each module of server/hitpath imports only modules
below it, and the pure ones import nothing of the server's I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import server.hitpath

HERE = Path(server.hitpath.__file__).parent
# Top to bottom. drain calls history, verdicts and record in that order; record reads
# the values history and verdicts made, so in the import order it sits above them.
ORDER = ["answer", "sender", "reclassify", "spool", "drain", "record", "history", "ids", "verdicts", "rules",
         "addresses"]
PURE = {"verdicts", "rules", "addresses"}
IO_MODULES = {"flask", "sqlalchemy", "server.extensions", "server.models", "server.services"}


def _imports(name: str) -> tuple[set[str], set[str]]:
    """(sibling modules, other modules) that ``name`` imports, at any depth of the file."""
    tree = ast.parse((HERE / f"{name}.py").read_text())
    siblings, others = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                if node.module:
                    siblings.add(node.module.split(".")[0])
                else:
                    siblings |= {a.name for a in node.names}
            elif node.level == 2:
                others.add("server." + (node.module or ""))
            else:
                others.add(node.module or "")
        elif isinstance(node, ast.Import):
            others |= {a.name for a in node.names}
    return siblings, others


def test_every_module_of_the_hit_path_is_in_the_order():
    assert sorted(p.stem for p in HERE.glob("*.py") if p.stem != "__init__") == sorted(ORDER)


def test_modules_only_import_downward():
    upward = []
    for i, name in enumerate(ORDER):
        siblings, _ = _imports(name)
        upward += [f"{name} imports {s}" for s in siblings if s in ORDER and ORDER.index(s) <= i]
    assert upward == []


def test_the_pure_modules_do_no_io():
    found = {name: sorted(o for o in _imports(name)[1] if any(o == m or o.startswith(m + ".") for m in IO_MODULES))
             for name in PURE}
    assert found == {name: [] for name in PURE}
