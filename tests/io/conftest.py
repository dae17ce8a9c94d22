"""Make the test helpers here (browser.py, mapsynth.py) importable under any import mode."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)
