"""yalu.propagation."""
