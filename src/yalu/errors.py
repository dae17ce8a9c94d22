"""The yalu exception hierarchy.

Every error that yalu raises on purpose derives from :class:`YaluError` and also from the builtin
that matches its meaning, so callers may catch either ``yalu.errors.YaluError`` or, say,
``ValueError``. The CLI turns any :class:`YaluError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = [
    "YaluError",
    "InputError",
    "ParameterError",
    "ChoiceError",
    "ITMError",
    "TerrainError",
    "TerrainFormatError",
    "MissingTileError",
    "DownloadError",
    "ScenarioError",
    "OutputExistsError",
    "OutputError",
    "YaluWarning",
    "ValidityRangeWarning",
    "parse_choice",
    "check_range",
    "env_number",
]


class YaluError(Exception):
    """Base class of every error raised on purpose by yalu."""


class InputError(YaluError, ValueError):
    """A value given to yalu is invalid."""


class ParameterError(InputError):
    """A named parameter has a value outside its valid range.

    Parameters
    ----------
    name : str
        Parameter name as the user wrote it (``step_m``, ``--bbox``, ``sites[3].height_m``).
    value : Any
        The offending value.
    valid : str
        Human-readable description of the valid range, e.g. ``"> 0"`` or ``"-90 to 90"``.
    """

    def __init__(self, name: str, value: Any, valid: str, detail: str | None = None) -> None:
        self.name = name
        self.value = value
        self.valid = valid
        self.detail = detail
        msg = f"{name} = {value!r}: must be {valid}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class ChoiceError(ParameterError):
    """A string option is not one of the allowed choices."""

    def __init__(self, name: str, value: Any, choices: Iterable[str]) -> None:
        self.choices = tuple(choices)
        super().__init__(name, value, "one of " + ", ".join(self.choices))


class ITMError(ParameterError):
    """Invalid input to the Irregular Terrain Model.

    ``code`` is the numeric error code of the NTIA ITM v1.4 reference (1000 and up).
    """

    def __init__(self, code: int, name: str, value: Any, valid: str) -> None:
        self.code = int(code)
        super().__init__(name, value, valid, detail=f"ITM error {code}")


class TerrainError(YaluError):
    """Base class for terrain problems."""


class TerrainFormatError(TerrainError, ValueError):
    """A terrain file is unreadable, truncated or not in the format its name claims."""


class MissingTileError(TerrainError, FileNotFoundError):
    """A terrain tile needed for the request is not available."""

    def __init__(self, tile: str, detail: str = "") -> None:
        self.tile = tile
        msg = f"missing terrain tile {tile}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


class DownloadError(YaluError, OSError):
    """A download failed after all retries."""


class ScenarioError(InputError):
    """A scenario file is invalid. The message names file, field path, line and value."""


class OutputExistsError(YaluError, FileExistsError):
    """An output exists and ``overwrite`` was not requested."""

    def __init__(self, path: Any) -> None:
        self.path = path
        super().__init__(f"output {path} exists: pass --overwrite to replace it")


class OutputError(YaluError, OSError):
    """An output cannot be written where it was asked (a device, an input, a read-only or full
    disk, another process writing it). Nothing was replaced."""


class YaluWarning(UserWarning):
    """Base class of yalu's warnings."""


class ValidityRangeWarning(YaluWarning):
    """An input lies outside the range a model was derived for; the result is extrapolated."""


E = TypeVar("E", bound=enum.Enum)


def parse_choice(enum_cls: type[E], value: Any, name: str) -> E:
    """Coerce ``value`` (member, value or case-insensitive name) to a member of ``enum_cls``.

    Raises
    ------
    ChoiceError
        Naming the parameter and listing the valid choices.
    """
    if isinstance(value, enum_cls):
        return value
    for member in enum_cls:
        if value == member.value:
            return member
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "-")
        for member in enum_cls:
            names = {member.name.lower().replace("_", "-")}
            if isinstance(member.value, str):
                names.add(member.value.lower().replace("_", "-"))
            if key in names:
                return member
    choices = [str(m.value) if isinstance(m.value, str) else m.name.lower() for m in enum_cls]
    raise ChoiceError(name, value, choices)


def check_range(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_inclusive: bool = True,
    hi_inclusive: bool = True,
) -> None:
    """Raise :class:`ParameterError` unless every element of ``value`` lies in the range.

    NaN always fails.
    """
    import numpy as np

    arr = np.asarray(value, dtype=float)
    ok = np.isfinite(arr)
    if lo is not None:
        ok &= (arr >= lo) if lo_inclusive else (arr > lo)
    if hi is not None:
        ok &= (arr <= hi) if hi_inclusive else (arr < hi)
    if not np.all(ok):
        bad = arr[~ok].flat[0] if arr.ndim else float(arr)
        if lo is not None and hi is not None:
            valid = f"{lo} to {hi}"
            if not lo_inclusive or not hi_inclusive:
                valid = f"in {'[' if lo_inclusive else '('}{lo}, {hi}{']' if hi_inclusive else ')'}"
        elif lo is not None:
            valid = f"{'>=' if lo_inclusive else '>'} {lo}"
        elif hi is not None:
            valid = f"{'<=' if hi_inclusive else '<'} {hi}"
        else:
            valid = "finite"
        raise ParameterError(name, bad.item() if hasattr(bad, "item") else bad, valid)


def env_number(name: str, default: float, what: str, *, positive: bool = False) -> float:
    """The environment variable ``name`` as a finite number >= 0 (> 0 when ``positive``), or
    ``default`` when it is unset or empty; anything else raises :class:`ParameterError`
    naming the variable, its value and ``what`` it must be."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ParameterError(name, raw, what)
    return value
