"""Make the shared test providers (tests/helpers) importable under any pytest import mode."""

import sys
from pathlib import Path

_HELPERS = str(Path(__file__).parents[1] / "helpers")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)
