"""The layers of ``src/tracepond``: nothing imports a layer above it.

Every module is read with ``ast`` (every import: top-level, inside functions, under
``TYPE_CHECKING``) and mapped to its component in ``LAYERS``. A module may import its own
component and any component of a lower layer; the components of one layer are peers that never
import each other. ``docs/architecture.md`` shows the same table (checked below).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tracepond"
DOC = ROOT / "docs" / "architecture.md"

# Bottom to top: (layer, {component: the modules and packages in it, relative to tracepond}).
# "" is the package itself (``tracepond/__init__.py``).
LAYERS: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    ("model", {"model": ("model", "errors", "projects", "deadline", "_arrow", "_version")}),
    ("rules", {"conventions": ("conventions",), "auth": ("auth",)}),
    ("store", {"store": ("store",)}),
    ("services", {"ingest": ("ingest",), "query": ("query",), "retention": ("retention",)}),
    ("http", {"http": ("http_cancel", "http_guard")}),
    ("apps", {"api": ("api", "web"), "jaeger": ("jaeger",), "metrics": ("metrics",)}),
    (
        "edge",
        {
            "edge": (
                "",
                "server",
                "server_auth",
                "server_settings",
                "tls",
                "price_file",
                "reindex",
                "cli",
                "_auth_flags",
                "_copy",
                "_copy_cli",
                "_delete_cli",
                "_export",
                "_keys_cli",
                "_launch",
                "_logging",
                "_projects_cli",
                "_store_flags",
                "_supervised",
                "client",
                "sdk",
                "langchain",
                "demo",
            )
        },
    ),
)


@dataclass(frozen=True)
class Place:
    layer: int
    layer_name: str
    component: str


@dataclass(frozen=True)
class Import:
    module: str
    target: str
    line: int


def dotted(relative: str) -> str:
    return f"tracepond.{relative}" if relative else "tracepond"


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def place_of(module: str) -> Place | None:
    """The component a module belongs to (its longest matching entry in LAYERS)."""
    matches = [
        (len(dotted(entry)), Place(index, layer_name, component))
        for index, (layer_name, components) in enumerate(LAYERS)
        for component, entries in components.items()
        for entry in entries
        if _contains(entry, module)
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def _contains(entry: str, module: str) -> bool:
    name = dotted(entry)
    # The package itself is an entry of its own, not a prefix of every module.
    return module == name or (bool(entry) and module.startswith(name + "."))


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """The tracepond modules ``module`` imports, wherever in the file the import is."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    out: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, package)
            for alias in node.names:
                # ``from tracepond.query import durations`` imports tracepond.query.durations.
                submodule = f"{base}.{alias.name}"
                out.append(Import(module, submodule if submodule in known else base, node.lineno))
    return [i for i in out if i.target == "tracepond" or i.target.startswith("tracepond.")]


def _from_base(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def owning_module(target: str, known: set[str]) -> str:
    """The module an imported name lives in (``tracepond.x.y.Name`` -> ``tracepond.x.y``)."""
    while target not in known and "." in target:
        target = target.rpartition(".")[0]
    return target


def path_of(entry: str) -> str:
    """How the doc names an entry: ``store/`` for a package, ``errors.py`` for a module."""
    if not entry:
        return "__init__.py"
    return f"{entry}/" if (PACKAGE / entry).is_dir() else f"{entry}.py"


def render_table() -> str:
    """LAYERS as the Markdown table of docs/architecture.md, bottom layer first."""
    lines = [
        "| layer (bottom → top) | components (peers: none imports another of its layer) |",
        "|---|---|",
    ]
    for index, (layer_name, components) in enumerate(LAYERS, start=1):
        cells = " · ".join(
            f"**{component}**: " + ", ".join(f"`{path_of(entry)}`" for entry in entries)
            for component, entries in components.items()
        )
        lines.append(f"| {index}. {layer_name} | {cells} |")
    return "\n".join(lines)


def test_every_module_has_a_layer() -> None:
    unplaced = [module for module in modules() if place_of(module) is None]
    assert not unplaced, f"modules in no layer (add them to LAYERS and the doc): {unplaced}"


def test_every_entry_names_existing_modules() -> None:
    names = set(modules())
    stale = [
        dotted(entry)
        for _, components in LAYERS
        for entries in components.values()
        for entry in entries
        if dotted(entry) not in names
    ]
    assert not stale, f"LAYERS names modules that do not exist: {stale}"


def test_nothing_imports_a_layer_above_it() -> None:
    found = modules()
    known = set(found)
    problems: list[str] = []
    for module, path in found.items():
        source = place_of(module)
        if source is None:
            continue  # reported by test_every_module_has_a_layer
        for imported in imports_of(module, path, known):
            target_module = owning_module(imported.target, known)
            target = place_of(target_module)
            if target is None:
                problems.append(f"{module}:{imported.line} imports {imported.target}: no layer")
            elif target.layer > source.layer or (
                target.layer == source.layer and target.component != source.component
            ):
                problems.append(
                    f"{module}:{imported.line} ({source.layer_name}/{source.component})"
                    f" imports {imported.target} ({target.layer_name}/{target.component})"
                )
    assert not problems, "imports against the layers:\n" + "\n".join(dict.fromkeys(problems))


def test_architecture_doc_shows_the_same_table() -> None:
    table = render_table()
    assert table in DOC.read_text(), f"docs/architecture.md must contain:\n{table}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tracepond.query import durations\n", "tracepond.query.durations"),
        ("import tracepond.ingest.service\n", "tracepond.ingest.service"),
        ("def f():\n    from tracepond.store.contract import Store\n", "tracepond.store.contract"),
        (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from tracepond.api.app import create_app\n",
            "tracepond.api.app",
        ),
        ("from .pipeline import WritePipeline\n", "tracepond.ingest.pipeline"),
    ],
)
def test_every_kind_of_import_is_read(tmp_path: Path, source: str, expected: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    known = set(modules())
    targets = [
        owning_module(i.target, known) for i in imports_of("tracepond.ingest.probe", path, known)
    ]
    assert targets == [expected]
