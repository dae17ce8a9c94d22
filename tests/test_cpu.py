"""``yalu.cpu.clean_upper``: compiled into kernels where the host has AVX, and every parallel
loop of the package calls it for each work item (why: see the module's docstring)."""

import ast
import math
from pathlib import Path

import numpy as np
from numba import njit

from yalu import cpu

SRC = Path(__file__).parents[1] / "src" / "yalu"


@njit(cache=False)
def _with_clean(x):
    out = np.empty_like(x)
    for i in range(x.size):
        cpu.clean_upper()
        out[i] = math.atan2(x[i], 1.0) + math.log10(1.0 + x[i] * x[i])
    return out


def test_clean_upper_keeps_the_numbers():
    x = np.linspace(-50.0, 50.0, 1001)
    np.testing.assert_array_equal(
        _with_clean(x), np.array([math.atan2(v, 1.0) + math.log10(1.0 + v * v) for v in x])
    )


def test_clean_upper_is_the_avx_instruction_only_where_the_host_has_avx():
    x = np.ones(3)
    _with_clean(x)
    ir = _with_clean.inspect_llvm(_with_clean.signatures[0])
    assert ("llvm.x86.avx.vzeroupper" in ir) == cpu._HAS_AVX


def _call_name(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        return ""
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def _prange_loops(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and _call_name(node.iter) == "prange":
            yield node


def _calls_clean_upper(body: list[ast.stmt]) -> bool:
    return any(_call_name(n) == "clean_upper" for stmt in body for n in ast.walk(stmt))


def test_every_parallel_loop_cleans_each_work_item():
    """A prange body calls ``clean_upper()`` itself, or in the loop over the items of its
    chunk (a chunk of nodes, a node at a time)."""
    loops = []
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for loop in _prange_loops(tree):
            loops.append(loop)
            top = [s for s in loop.body if not isinstance(s, ast.For)]
            inner = [s for s in loop.body if isinstance(s, ast.For)]
            ok = _calls_clean_upper(top) or (bool(inner) and _calls_clean_upper(inner[0].body[:2]))
            if not ok:
                missing.append(f"{path.relative_to(SRC)}:{loop.lineno}")
    assert len(loops) >= 15
    assert missing == []
