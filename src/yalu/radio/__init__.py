"""yalu.radio."""
