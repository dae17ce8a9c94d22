"""The helper process that draws PNG maps beside a run's other outputs
(:func:`yalu.scenario.outputs.write_layers`): ``python -m yalu.scenario._maphelper JOBS``."""

from __future__ import annotations

import sys

from yalu.scenario.outputs import _helper_main

if __name__ == "__main__":
    _helper_main(sys.argv[1])
