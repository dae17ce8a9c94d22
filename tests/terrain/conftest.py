"""Make the synthetic-tile writers importable under any pytest import mode."""

import sys
from pathlib import Path

for _dir in (Path(__file__).parent, Path(__file__).parents[1] / "helpers"):  # writers, server
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))
