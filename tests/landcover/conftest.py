"""Make the loopback HTTP server (tests/helpers/loopback_http.py) importable in any mode."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).parents[1] / "helpers")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
