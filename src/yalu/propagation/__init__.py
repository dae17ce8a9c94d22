"""yalu.propagation."""

# Irregular Terrain Model (Longley-Rice): yalu.propagation.itm
from yalu.propagation import itm as itm

# clutter (ITU-R P.2108) and building entry loss (ITU-R P.2109): optional corrections
from yalu.propagation import p2108 as p2108
from yalu.propagation import p2109 as p2109

# classic models (free space, Hata, knife edges)
from yalu.propagation._validity import ValidityRangeWarning
from yalu.propagation.diffraction import (
    deygout_loss_db,
    deygout_loss_db_batch,
    knife_edge_loss_db,
    knife_edge_nu,
)
from yalu.propagation.free_space import free_space_loss_db
from yalu.propagation.hata import (
    HataEnvironment,
    cost231_hata_loss_db,
    hata_loss_db,
    okumura_hata_loss_db,
)

__all__ = [
    "itm",
    "p2108",
    "p2109",
    "ValidityRangeWarning",
    "deygout_loss_db",
    "deygout_loss_db_batch",
    "knife_edge_loss_db",
    "knife_edge_nu",
    "free_space_loss_db",
    "HataEnvironment",
    "cost231_hata_loss_db",
    "hata_loss_db",
    "okumura_hata_loss_db",
]
