"""Shared command-line helpers: terrain arguments and errors that name the option typed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from yalu.errors import ParameterError

__all__ = ["EMBEDDED", "as_options", "open_cli_terrain"]

#: The word that selects the embedded coarse demo terrain wherever a terrain is accepted.
EMBEDDED = "embedded"


def open_cli_terrain(value: Any, **kwargs: Any) -> Any:
    """Open a ``--terrain``/``PATH`` argument: ``embedded`` or a file, list or tile directory."""
    from yalu.terrain import default_terrain, open_terrain

    if value is None or str(value) == EMBEDDED:
        return default_terrain(missing=kwargs.get("missing", "error"))
    return open_terrain(str(value), **kwargs)


@contextmanager
def as_options(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library :class:`ParameterError` under the command-line option's name.

    ``names`` maps library parameter names (``h_tx_m``) to the options the user typed
    (``--height-m``); parameters not in it keep their name.
    """
    try:
        yield
    except ParameterError as exc:
        opt = names.get(exc.name)
        if opt is None:
            raise
        raise ParameterError(opt, exc.value, exc.valid, exc.detail) from None
