"""The browser helper of tests/io (headless Chromium) for the end-to-end report checks."""

import sys
from pathlib import Path

_IO = str(Path(__file__).parents[1] / "io")
if _IO not in sys.path:
    sys.path.append(_IO)
