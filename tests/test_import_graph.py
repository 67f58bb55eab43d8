"""The import graph runs one way (docs/extending.md): the wire families and the registry sit
at the bottom, the CLI at the top, the risk score judges values and never reads a store, and
only the SQLite backend knows SQLite. Read from the source (every `import`, including those
inside functions and under TYPE_CHECKING), so an import added anywhere is caught here."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import modelaudit

SOURCE = Path(modelaudit.__file__).parent
BOTTOM = frozenset({"families", "registry"})
TOP = frozenset({"cli", "__main__"})
LIBRARY = frozenset(p.parent.name for p in SOURCE.glob("*/__init__.py")) - BOTTOM - TOP
"""Every other package (a new one included): above the bottom, below the CLI."""
ABOVE_BOTTOM = LIBRARY | TOP


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> frozenset[str]:
    return frozenset(_module_name(p) for p in SOURCE.rglob("*.py"))


@cache
def imports() -> dict[str, frozenset[str]]:
    """Each module of the package -> the modules it imports (`from a import b` counts as
    `a.b` where that is a module, else as `a`)."""
    graph = {}
    for path in sorted(SOURCE.rglob("*.py")):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in _modules() else base)
        graph[name] = frozenset(found)
    return graph


def _layer(module: str) -> str:
    """The package right under `modelaudit` (`store` for modelaudit.store.sqlite.db), or
    the module itself for a top-level one (`errors`); '' for the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "modelaudit" else ""


def violations(importer_in: frozenset[str], forbidden: frozenset[str]) -> set[tuple[str, str]]:
    return {
        (module, imported)
        for module, found in imports().items()
        if _layer(module) in importer_in
        for imported in found
        if imported.startswith("modelaudit") and _layer(imported) in forbidden
    }


def test_the_library_layer_holds_the_packages_it_is_meant_to() -> None:
    named = {"probe", "store", "risk", "report", "gate", "schedule", "metrics", "alerts"}
    named |= {"discovery", "scaffold", "output"}
    assert named <= LIBRARY


def test_the_families_and_the_registry_import_nothing_above_them() -> None:
    assert violations(BOTTOM, ABOVE_BOTTOM) == set()


def test_library_code_never_imports_the_cli() -> None:
    """Output formats included: a formatter is handed its writer (`modelaudit.output`)."""
    assert violations(LIBRARY, TOP) == set()


def test_the_risk_score_takes_history_as_values_and_imports_no_store() -> None:
    assert violations(frozenset({"risk"}), frozenset({"store"})) == set()


def test_only_the_sqlite_backend_touches_sqlite() -> None:
    """Everything else goes through the store's interface (`modelaudit.store.base`)."""
    backend = "modelaudit.store.sqlite"
    touching = {
        module
        for module, found in imports().items()
        if any(i in ("sqlite3", backend) or i.startswith(f"{backend}.") for i in found)
    }
    assert {m for m in touching if not m.startswith(f"{backend}.") and m != backend} == set()


def test_the_graph_is_read_from_every_import() -> None:
    """The reading itself: imports inside functions and under TYPE_CHECKING count."""
    graph = imports()
    assert "modelaudit.store.sqlite.store" in graph["modelaudit.store.sqlite.backend"]
    assert "modelaudit.store.base" in graph["modelaudit.schedule.job"]
    assert "modelaudit.output.base" in graph["modelaudit.probe.formats.base"]
