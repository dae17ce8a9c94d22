"""Reading and writing: atomic outputs, rasters, maps, reports."""

from yalu.io.atomic import atomic_dir, atomic_output, check_writable

__all__ = ["atomic_dir", "atomic_output", "check_writable"]
