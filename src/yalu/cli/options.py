"""Shared command-line helpers: terrain arguments and errors that name the option typed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from yalu.errors import ParameterError

__all__ = ["EMBEDDED", "as_options", "download_options", "open_cli_terrain"]

_F = TypeVar("_F", bound=Callable[..., Any])

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


def download_options(timeout_s: float, base_url_help: str) -> Callable[[_F], _F]:
    """``--base-url``, ``--retries``, ``--timeout`` and ``--backoff``: every ``fetch`` command's
    download options (see :mod:`yalu.download`)."""
    options = [
        click.option("--base-url", default=None, help=base_url_help),
        click.option("--retries", type=int, default=4, show_default=True),
        click.option("--timeout", "timeout_s", type=float, default=timeout_s, show_default=True,
                     help="Socket timeout per attempt [s]."),
        click.option("--backoff", "backoff_s", type=float, default=1.0, show_default=True,
                     help="First wait between attempts [s], doubled each time."),
    ]  # fmt: skip

    def decorate(f: _F) -> _F:
        for opt in reversed(options):
            f = opt(f)
        return f

    return decorate
