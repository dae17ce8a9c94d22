"""The package layers: every import of yalu code, lazy ones included, points down or sideways."""

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "yalu"

#: Low to high. A package may import from its own layer or any layer below it.
LAYERS = [
    {"errors", "__init__", "cpu", "download", "inputs", "memory"},
    {"geodesy"},
    {"terrain"},
    {"propagation"},
    {"landcover"},
    {"radio"},
    {"coverage"},
    {"analysis"},
    {"io"},
    {"scenario"},
    {"cli", "web"},
]
RANK = {pkg: k for k, layer in enumerate(LAYERS) for pkg in layer}


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("yalu"):
            names = [node.module]
            if node.module == "yalu":  # from yalu import geodesy / __version__
                names = [
                    f"yalu.{a.name}"
                    if (SRC / a.name).exists() or (SRC / f"{a.name}.py").exists()
                    else "yalu"
                    for a in node.names
                ]
            out += [(node.lineno, n) for n in names]
            # a private name taken from a module: ``from yalu.x import _y`` counts as ``yalu.x._y``
            out += [
                (node.lineno, f"{node.module}.{a.name}")
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("yalu")]
    return out


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for f in sorted(SRC.rglob("*.py")):
        src_pkg = _package(f)
        for line, mod in _imports(f):
            parts = mod.split(".")
            tgt = parts[1] if len(parts) > 1 else "__init__"
            edges.append((src_pkg, tgt, f"{f.relative_to(SRC)}:{line} imports {mod}"))
    return edges


def test_every_package_has_a_layer():
    pkgs = {_package(f) for f in SRC.rglob("*.py")}
    assert pkgs <= set(RANK), f"packages without a layer: {sorted(pkgs - set(RANK))}"


def test_no_import_points_up():
    up = [where for a, b, where in _edges() if RANK[b] > RANK[a]]
    assert up == []


def test_no_private_module_is_imported_across_packages():
    def private(mod: str) -> bool:
        return any(p.startswith("_") and not p.startswith("__") for p in mod.split("."))

    crossing = [w for a, b, w in _edges() if a != b and private(w.split(" imports ")[1])]
    assert crossing == []


def test_the_scan_sees_lazy_imports_and_private_names(tmp_path):
    f = tmp_path / "x.py"
    f.write_text(
        "def g():\n    from yalu.scenario.runner import _noop, run_scenario\n", encoding="utf-8"
    )
    assert _imports(f) == [(2, "yalu.scenario.runner"), (2, "yalu.scenario.runner._noop")]
