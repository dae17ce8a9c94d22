"""Common base of the radio model objects: frozen pydantic models raising yalu errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from yalu.errors import ParameterError, YaluError

__all__ = ["RadioModel", "to_yalu_error"]


def to_yalu_error(exc: ValidationError, prefix: str = "") -> YaluError:
    """The first error of a pydantic ``ValidationError`` as a yalu error naming the field."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    name = prefix + loc if loc else prefix.rstrip(".") or exc.title
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, YaluError):
        if isinstance(inner, ParameterError) and loc and not inner.name.startswith(name):
            # keep the message but name the full field path (pattern.azimuth_deg, ...)
            full = name if inner.name == loc.rsplit(".", 1)[-1] else f"{name}.{inner.name}"
            return ParameterError(full, inner.value, inner.valid, inner.detail)
        return inner
    if err.get("type") == "missing":
        return ParameterError(name, "<missing>", "given (required field)")
    msg = str(err.get("msg", "valid"))
    for lead in ("Input should be ", "Value error, "):
        if msg.startswith(lead):
            msg = msg[len(lead) :]
    return ParameterError(name, err.get("input"), msg)


class RadioModel(BaseModel):
    """Frozen, validated model; direct construction raises yalu errors naming the field.

    Validation nested inside another pydantic model (the scenario file layer) keeps raising
    pydantic's ``ValidationError``, which that layer wraps itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise to_yalu_error(exc) from None
