"""Argument checks shared by the public API.

Every check raises :class:`ValueError` naming the argument, the value received and what
is allowed, so that a bad configuration fails at the boundary with a readable message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "check_positive",
    "check_non_negative",
    "check_in_range",
    "check_positive_int",
    "check_finite_tensor",
    "check_shape",
    "check_choice",
]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_number(name: str, value: object) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number ``> 0``."""
    number = _require_number(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def check_non_negative(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number ``>= 0``."""
    number = _require_number(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def check_in_range(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as float if it lies in the closed interval ``[low, high]``."""
    number = _require_number(name, value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return number


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value  # type: ignore[return-value]


def check_finite_tensor(name: str, value: Tensor) -> Tensor:
    """Return ``value`` if it is a tensor with only finite entries."""
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must contain only finite values, got non-finite entries")
    return value


def check_shape(name: str, value: Tensor, shape: Sequence[int | None]) -> Tensor:
    """Return ``value`` if its shape matches ``shape`` (``None`` matches any size)."""
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    ok = value.dim() == len(shape) and all(
        want is None or have == want for have, want in zip(value.shape, shape)
    )
    if not ok:
        want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"{name} must have shape {want}, got {list(value.shape)}")
    return value
