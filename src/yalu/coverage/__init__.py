"""yalu.coverage."""
