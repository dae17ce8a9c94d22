"""yalu.analysis."""
