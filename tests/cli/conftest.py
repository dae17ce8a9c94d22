"""CLI tests use the steep synthetic terrain of tests/terrain (beyond Earth's +-12 km)."""

import pytest


@pytest.fixture(autouse=True)
def _steep_synthetic_terrain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen yalu's +-12 km void rule for fields that test geometry, not plausibility."""
    import yalu.terrain.core as core

    monkeypatch.setattr(core, "MAX_ABS_ELEVATION_M", 40_000.0)
