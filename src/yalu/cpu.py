"""CPU-level helpers for the numba kernels.

``clean_upper()`` clears the upper halves of the AVX registers (x86 ``vzeroupper``).

Why: on x86 CPUs with AVX, a thread whose upper register state is left "dirty" by earlier
256/512-bit code runs every legacy-SSE instruction afterwards with a false dependency on it
(Intel 64 and IA-32 Architectures Optimization Reference Manual, "Mixing AVX code with SSE
code"; on Skylake and later each such instruction also gets a blend). glibc's ``libm``
(``log10``, ``asin``, ``atan2``, ...) is SSE code, so a kernel that calls it from a numba
worker thread left dirty by the previous parallel kernel ran up to 11x slower on the worker's
half of the work (measured: ``fast_fill`` after ``fast_radials`` on the bench job, 1.48 s
instead of 0.13 s on 2 threads). LLVM inserts ``vzeroupper`` only where it knows it dirtied
the state itself, not at the entry of a parallel region's body, so the kernels call
``clean_upper()`` at the start of each work item.

On CPUs without AVX (and on other architectures) it compiles to nothing. numba's cache is
keyed by the host CPU and its features, so a cached kernel never carries the instruction to a
machine that lacks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import llvmlite.binding as _llb
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numpy.typing import NDArray


def _host_has_avx() -> bool:
    try:
        feats = _llb.get_host_cpu_features()
    except RuntimeError:  # llvmlite raises this where it cannot read the features
        return False
    return bool(feats.get("avx", False))


_HAS_AVX = _host_has_avx()


def _clean_upper(typingctx: Any) -> Any:
    sig = types.void()

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        if _HAS_AVX:
            fnty = ir.FunctionType(ir.VoidType(), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx.vzeroupper")
            builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


#: Clear the upper halves of the AVX registers (``llvm.x86.avx.vzeroupper``) in a numba
#: kernel; a no-op where the host has no AVX.
clean_upper = cast(Callable[[], None], intrinsic(_clean_upper))


def readonly(a: NDArray[Any]) -> NDArray[Any]:
    """A read-only view of the array ``a`` (no copy).

    numba compiles a kernel once per argument type, and a read-only array is a different type
    from a writable one: a wrapper that passes its inputs as they come (writable from one
    caller, a read-only broadcast or frozen array from another) compiles, caches and loads
    the same kernel several times (six copies of ITM's batch kernel, ~4 s of compilation
    each). Wrappers pass every input through this, so each kernel has one signature.
    """
    v = a.view()
    v.flags.writeable = False
    return v
