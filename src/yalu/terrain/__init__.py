"""yalu.terrain."""
