"""The package's layering, checked on its source: every module imports only from lower
layers (or from its own unit), and no module reaches into another module's private names.

The layers, lowest first (``docs/architecture.md`` draws them):

0. ``io_utils``: atomic writes, JSON and array readers;
1. core: ``audio``, ``events``, ``persist`` (the model format), ``trees``;
2. ``features`` (frames, segments, label tree embeddings), ``datasets``, ``bundled``
   (the shipped model folders);
3. ``decode`` (arrays in, events out), ``evaluate``;
4. ``models`` (each detector offers a stream);
5. ``detect`` (runners over any model's stream);
6. ``recipes``, ``demo``;
7. ``cli``;
8. ``__main__``.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "audioscene"

LAYERS = {
    "io_utils": 0,
    "audio": 1, "events": 1, "persist": 1, "trees": 1, "estimator": 1,
    "features": 2, "datasets": 2, "bundled": 2,
    "decode": 3, "evaluate": 3,
    "models": 4,
    "detect": 5,
    "recipes": 6, "demo": 6,
    "cli": 7, "__main__": 8,
}


@functools.cache
def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _unit(module: str) -> str | None:
    """The top-level unit of ``audioscene.x.y`` (``x``); None for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every import statement, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_pkg, node)
            names = [a.name for a in node.names]
            # `from . import x` / `from .. import x`: x is a submodule or a package attribute
            if node.module is None:
                known = _modules()
                for n in names:
                    sub = f"{target}.{n}"
                    out.append((node.lineno, sub, []) if sub in known else
                               (node.lineno, target, [n]))
            else:
                out.append((node.lineno, target, names))
    return out


def test_every_module_has_a_layer() -> None:
    units = {_unit(m) for m in _modules()} - {None}
    assert units <= set(LAYERS), f"modules without a layer: {sorted(units - set(LAYERS))}"


def test_imports_only_go_down() -> None:
    bad = []
    for module, path in _modules().items():
        unit = _unit(module)
        if unit is None:
            continue
        for line, target, names in _imports(module, path):
            if not target.startswith("audioscene"):
                continue
            tunit = _unit(target)
            if tunit is None:  # the package root: only its __version__
                if names and set(names) - {"__version__"}:
                    bad.append(f"{path.name}:{line} imports {names} from the package root")
                continue
            if tunit == unit:
                continue
            if LAYERS[tunit] >= LAYERS[unit]:
                bad.append(f"{module}:{line} ({unit}, layer {LAYERS[unit]}) imports "
                           f"{target} ({tunit}, layer {LAYERS[tunit]})")
    assert not bad, "imports that do not go down:\n" + "\n".join(bad)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_names(tree: ast.AST) -> set[str]:
    """Private names a module defines itself: functions, classes, attributes assigned
    on any object, and module-level variables."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_no_module_reaches_into_private_names() -> None:
    bad = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(), str(path))
        own = _defined_names(tree)
        for line, target, names in _imports(module, path):
            if any(_private(p) for p in target.split(".")):
                bad.append(f"{module}:{line} imports the private module {target}")
            for n in names:
                if _private(n):
                    bad.append(f"{module}:{line} imports the private name {n} from {target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                    continue
                if node.attr in own:
                    continue  # a name of this module, on one of its own objects
                bad.append(f"{module}:{node.lineno} uses .{node.attr}, defined elsewhere")
    assert not bad, "private access across modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("code, forbidden", [
    ("import audioscene", ["torch", "sklearn", "librosa", "numba", "scipy"]),
    ("import audioscene.cli", ["torch", "sklearn", "librosa", "numba", "scipy"]),
    ("import audioscene.features", ["torch", "sklearn"]),
    ("from audioscene.models import EventDetector, GMMEventDetector, load_model", ["torch"]),
    ("from audioscene.models import EventDetector, CaRForest",
     ["torch", "sklearn", "librosa", "scipy.signal"]),
    ("from audioscene.detect import StreamingDetector", ["torch", "sklearn"]),
])
def test_imports_stay_light(code: str, forbidden: list[str]) -> None:
    probe = (f"import sys; {code}; "
             f"print(','.join(m for m in {forbidden!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       check=True)
    assert r.stdout.strip() == "", f"{code!r} imported {r.stdout.strip()}"
