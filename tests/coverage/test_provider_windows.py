"""The provider's count of the grid geometry's nodes: each antenna position's widest window."""

from yalu.coverage.provider import EnginePathLoss
from yalu.geodesy import Grid
from yalu.radio.layers import Antenna
from yalu.terrain import default_terrain


def test_position_nodes_counts_each_positions_widest_window_once():
    g = Grid(41.5, 124.0, 0.01, 0.01, 120, 150)
    eng = EnginePathLoss(default_terrain(), radius_m=20e3, mode="exact")
    low, high = Antenna(41.0, 124.5, 30.0), Antenna(41.0, 124.5, 60.0)
    other = Antenna(41.3, 124.9, 40.0)
    edge = Antenna(41.45, 124.02, 40.0)  # its window is cut by the grid's corner
    far = Antenna(45.0, 130.0, 40.0)  # misses the grid
    a = [(low, 900.0, "forward", 1.5), (low, 1842.5, "reverse", 1.5),
         (high, 900.0, "forward", 1.5)]  # fmt: skip
    b = [(other, 900.0, "forward", 1.5)]
    c = [(edge, 1842.5, "reverse", 1.5)]
    one = {name: eng.map_nodes(reqs[:1], g) for name, reqs in (("a", a), ("b", b), ("c", c))}
    assert 0 < one["c"] < one["a"] and one["b"] > 0
    # a position's maps share its window: counted once, whatever its heights and carriers
    assert eng.position_nodes(a, g) == one["a"] < eng.map_nodes(a, g)
    assert eng.position_nodes(a + b + c, g) == one["a"] + one["b"] + one["c"]
    assert eng.position_nodes([(far, 900.0, "forward", 1.5)], g) == 0
    assert eng.position_nodes([], g) == 0
