"""The layers of the compiler, read from its source: every import (top-level and inside functions) of every module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "compiler"
PASSES = ("load", "validate", "merge", "resolve")  # in order: each may import the passes before it
# Pass 3's own helpers, which import no more than merge may: the platform fit ("pass 3, continued"), window arithmetic.
MERGE_HELPERS = ("platform", "windows")
# Leaves every layer may use: diagnostics, label keys, text helpers, the unit key. They import nothing of the compiler.
BASE = {"errors", "labels", "textutil", "unitkey"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(module: str) -> set[str]:
    """The compiler modules `module` imports; `from . import x` names the module x when there is one."""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) + 1 - node.level] + [node.module or ""]).rstrip(".") \
                if node.level else node.module or ""
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
    return found & MODULES.keys()


GRAPH = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> str:
    """`compiler.model.units` → `model`; the package itself (it holds only `__version__`) → `compiler`."""
    return module.split(".")[1] if "." in module else "compiler"


def _outside(layers: tuple[str, ...], allowed: set[str]) -> dict[str, set[str]]:
    """What the modules of `layers` import beyond their own layer and the `allowed` layers or modules."""
    return {m: bad for m, imported in GRAPH.items() if _layer(m) in layers
            if (bad := {i for i in imported if not {_layer(i), i} & (allowed | {_layer(m)})})}


def test_the_base_modules_import_nothing_of_the_compiler() -> None:
    assert {m: GRAPH[m] for m in GRAPH if _layer(m) in BASE and GRAPH[m]} == {}


def test_the_model_imports_nothing_above_it() -> None:
    assert _outside(("model",), BASE) == {}


def test_the_passes_up_to_resolve_import_only_lower_passes_the_model_and_errors() -> None:
    for index, layer in enumerate(PASSES):
        lower = {"model", *BASE, *PASSES[:index], *(MERGE_HELPERS if layer == "merge" else ())}
        assert _outside((layer,), lower) == {}, layer
    assert _outside(MERGE_HELPERS, {"model", "load", *BASE}) == {}


def test_renderers_never_import_the_driver_the_gate_or_reports() -> None:
    above = {"driver", "gate", "report", "cli"}
    assert {m: bad for m in GRAPH if _layer(m) == "render" if (bad := {i for i in GRAPH[m] if _layer(i) in above})} \
        == {}


def test_reports_import_only_findings_the_base_and_the_version() -> None:
    """`compiler` itself for `__version__`, which SARIF names the tool by; the cost estimate and its run arithmetic,
    which report/cost.py presents."""
    assert _outside(("report",), {"compiler.gate.finding", "compiler.cost", "compiler.runs", "compiler", *BASE}) == {}


def test_the_import_graph_has_no_cycle() -> None:
    """No strongly connected component of more than one module: no module reaches itself through another."""
    def reachable(module: str) -> set[str]:
        seen, todo = set(), [module]
        while todo:
            for other in GRAPH[todo.pop()] - seen:
                seen.add(other)
                todo.append(other)
        return seen

    reach = {module: reachable(module) for module in GRAPH}
    assert sorted(m for m in GRAPH if any(m in reach[o] for o in GRAPH[m] if o != m)) == []
