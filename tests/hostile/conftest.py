"""Fixtures of the hostile-input suite; helpers live in hostile_util (importable here)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from hostile_util import can_mount_tmpfs, write_scenario  # noqa: E402


@pytest.fixture
def scen(tmp_path: Path) -> Path:
    """Path of a valid tiny scenario file in its own directory."""
    return write_scenario(tmp_path / "sc")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs file systems (root only; skipped with the reason otherwise)."""
    if not can_mount_tmpfs(tmp_path):
        pytest.skip("mounting a tmpfs needs root and a kernel that allows it here")
    mounted: list[Path] = []

    def mount(name: str, size: str, ro: bool = False) -> Path:
        d = tmp_path / name
        d.mkdir()
        opts = f"size={size}" + (",ro" if ro else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(d)], check=True)
        mounted.append(d)
        return d

    yield mount
    for d in reversed(mounted):
        subprocess.run(["umount", "-l", str(d)], check=False)
