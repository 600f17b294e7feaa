"""The folder tree is the architecture (docs/architecture.md): these contracts fail the
build when an import runs against it.

- The core never imports a connector: only the composition roots (`gateway/app.py`,
  `gateway/cli.py`) wire channels in. `knowledge_base` imports neither.
- `gateway/` subpackages sit in layers; a module imports its own package, the layers below
  it, and never a sibling of its own layer or anything above.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Lowest first. The kernel is gateway/*.py: records, errors, texts, the calendar engine.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"gateway"}),
    frozenset({"gateway.store"}),
    frozenset({"gateway.config"}),
    frozenset({"gateway.access", "gateway.delivery", "gateway.integrations"}),
    frozenset({"gateway.tickets"}),
    frozenset({"gateway.outreach"}),
    frozenset({"gateway.sla", "gateway.csat"}),
    frozenset({"gateway.bot"}),
    frozenset({"gateway.reports"}),
    frozenset({"gateway.privacy", "gateway.console", "gateway.web"}),
)
COMPOSITION_ROOTS = frozenset({"gateway.app", "gateway.cli"})


def _imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, only for type checking) for every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in typing_only
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from gateway import passwords` names a module
                yield f"{node.module}.{alias.name}", node.lineno, id(node) in typing_only


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _unit(module: str) -> str:
    """The package a module belongs to for the layer contract: gateway.X for subpackages,
    "gateway" for the kernel's own modules."""
    parts = module.split(".")
    if len(parts) >= 2 and (ROOT / "gateway" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return "gateway"


def _layer(unit: str) -> int:
    return next(n for n, layer in enumerate(LAYERS) if unit in layer)


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_core_never_imports_a_connector() -> None:
    wrong = [f"{_module(path)}:{line} imports {name}"
             for path in _sources("gateway") if _module(path) not in COMPOSITION_ROOTS
             for name, line, _ in _imports(path) if name.split(".")[0] == "connectors"]
    wrong += [f"{_module(path)}:{line} imports {name}"
              for path in _sources("knowledge_base")
              for name, line, _ in _imports(path)
              if name.split(".")[0] in {"gateway", "connectors"}]
    assert wrong == []


def test_gateway_subpackages_import_only_their_own_layer_and_below() -> None:
    wrong = []
    for path in _sources("gateway"):
        module = _module(path)
        if module in COMPOSITION_ROOTS:
            continue
        unit = _unit(module)
        for name, line, typing_only in _imports(path):
            if name.split(".")[0] != "gateway" or _unit(name) == unit:
                continue
            target = _unit(name)
            if typing_only and unit == "gateway":
                continue  # the kernel may name any type in annotations (gateway/keys.py)
            if _layer(target) >= _layer(unit):
                wrong.append(f"{module}:{line} ({unit}) imports {name} ({target})")
    assert wrong == []


def test_every_gateway_subpackage_has_a_layer() -> None:
    packages = {f"gateway.{p.name}" for p in (ROOT / "gateway").iterdir()
                if (p / "__init__.py").exists()}
    assert packages == {unit for layer in LAYERS for unit in layer} - {"gateway"}


def test_no_module_is_over_400_lines() -> None:
    long = {str(path.relative_to(ROOT)): n
            for package in ("gateway", "connectors", "knowledge_base")
            for path in _sources(package)
            if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}
