"""yalu.io."""
