"""yalu: where mobile phones can connect, from first principles.

Terrain, the Longley-Rice Irregular Terrain Model and classic propagation models, link budgets in
both directions, interference and jamming, and the population inside the result.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("yalu")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
