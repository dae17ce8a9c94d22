"""CLI tests: the steep synthetic terrain of tests/terrain (beyond Earth's +-12 km), and the
browser helper of tests/io (headless Chromium) for the end-to-end report checks."""

import sys
from pathlib import Path

import pytest

_IO = str(Path(__file__).parents[1] / "io")
if _IO not in sys.path:
    sys.path.append(_IO)


@pytest.fixture(autouse=True)
def _steep_synthetic_terrain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen yalu's +-12 km void rule for fields that test geometry, not plausibility."""
    import yalu.terrain.core as core

    monkeypatch.setattr(core, "MAX_ABS_ELEVATION_M", 40_000.0)
