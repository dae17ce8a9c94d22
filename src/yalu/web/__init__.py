"""yalu.web."""
