"""Make the synthetic-tile writers importable under any pytest import mode."""

import sys
from pathlib import Path

for _dir in (Path(__file__).parent, Path(__file__).parents[1] / "helpers"):  # writers, server
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _steep_synthetic_terrain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic fields here span -14 to +32 km (steep planes that make every node
    distinct): they test geometry, not plausibility, so yalu's +-12 km void rule is widened."""
    import yalu.terrain.core as core

    monkeypatch.setattr(core, "MAX_ABS_ELEVATION_M", 40_000.0)
