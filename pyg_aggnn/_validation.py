"""Argument checks shared by the public API.

Every check raises :class:`ValueError` naming the argument, the value received and what
is allowed, so that a bad configuration fails at the boundary with a readable message.

Tensor values are checked with one ``aminmax`` reduction per tensor (NaN propagates
into both ends, so ``low <= min`` and ``max <= high`` fail for it), whose results come
back to the host together (:func:`check_values`): a single pass over the data without
temporaries, about ten times cheaper than ``torch.isfinite(x).all() & (x >= 0).all()``
on large tensors. The element-wise search for the offending entry runs only once a
check has failed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "check_finite",
    "check_positive",
    "check_non_negative",
    "check_in_range",
    "check_positive_int",
    "check_finite_tensor",
    "check_shape",
    "check_choice",
    "check_float_tensor",
    "check_values",
    "amplitude_limit",
]

_INF = math.inf


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_number(name: str, value: object) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_finite(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number."""
    return _require_number(name, value)


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
    if value.is_floating_point():
        check_values((name, value))
    return value


def check_float_tensor(name: str, value: object, shape: str) -> Tensor:
    """Return ``value`` if it is a real floating tensor; ``shape`` describes the expected
    shape in the message (e.g. ``"[N, *S]"``).
    """
    if not isinstance(value, Tensor) or not value.is_floating_point():
        got = (
            f"{value.dtype} tensor of shape {list(value.shape)}"
            if isinstance(value, Tensor)
            else type(value).__name__
        )
        raise ValueError(f"{name} must be a floating tensor of shape {shape}, got {got}")
    return value


def amplitude_limit(dtype: torch.dtype) -> float:
    """Largest channel amplitude accepted in ``dtype``: ``finfo(dtype).max ** 0.25 / 2``.

    A received power is a squared amplitude times a power, and WMMSE multiplies two of
    them (:math:`h^4` terms); below this limit :math:`h^4` stays under
    ``finfo(dtype).max / 16`` (``2.1e9`` in float32, where a received power then
    reaches at most ``4.6e18`` times the transmit power; ``8`` in float16).
    """
    return float(torch.finfo(dtype).max) ** 0.25 / 2


def _allowed(low: float, high: float, floating: bool, strict: bool) -> str:
    kind = "finite values" if floating else "values"
    if low == -_INF and high == _INF:
        return kind
    if high == _INF:
        return f"{kind} {'>' if strict else '>='} {low:g}"
    if low == -_INF:
        return f"{kind} <= {high:g}"
    return f"{kind} in {'(' if strict else '['}{low:g}, {high:g}]"


def _explain(name: str, value: Tensor, low: float, high: float, strict: bool) -> str:
    """The message of a failed value check: the first offending entry and the count."""
    data = value.detach()
    inside = ((data > low) if strict else (data >= low)) & (data <= high)
    if data.is_floating_point():
        inside &= torch.isfinite(data)
    bad = (~inside).nonzero()
    index = [int(i) for i in bad[0]] if bad.numel() else []
    entry = data[tuple(index)].item() if bad.numel() else None
    where = f" at index {index}" if data.dim() else ""
    return (
        f"{name} must hold {_allowed(low, high, data.is_floating_point(), strict)}, got {entry!r}{where} "
        f"({bad.size(0)} of {data.numel()} entries outside)"
    )


def check_values(*checks: tuple) -> None:
    """Check the value range of several tensors with one reduction each.

    The extrema come back to the host together: ``.item()`` on the CPU (no
    synchronisation there), one transfer per dtype on an accelerator. The comparisons
    then run in Python, so a call costs one ``aminmax`` per tensor and no other tensor
    operation (on small tensors the dispatch of tiny operations would cost more than the
    reductions).

    Args:
        *checks: ``(name, tensor)``, ``(name, tensor, low)``,
            ``(name, tensor, low, high)`` or ``(name, tensor, low, high, True)``; every
            entry must be finite (floating tensors) and lie in ``[low, high]`` (default:
            ``-inf``, ``inf``), or in ``(low, high]`` with the fifth element ``True``.
            Empty tensors pass.

    Raises:
        ValueError: naming the first failing tensor, the first offending entry with its
            index and what is allowed.

    Under ``torch.compile`` tracing nothing is checked (a host sync breaks the graph);
    validate the inputs before the compiled region.
    """
    if torch.compiler.is_compiling():
        return
    specs, extrema, on_host = [], [], True
    for check in checks:
        value = check[1]
        if not isinstance(value, Tensor):
            raise ValueError(f"{check[0]} must be a torch.Tensor, got {type(value).__name__}")
        if value.numel():
            specs.append(check)
            extrema.append(torch.aminmax(value.detach()))
            on_host = on_host and value.is_cpu
    found = [(lo.item(), hi.item()) for lo, hi in extrema] if on_host else _to_host(extrema)
    for check, (lo, hi) in zip(specs, found):
        name, value, low, high, strict = _unpack(check)
        ok = (lo > low if strict else lo >= low) and hi <= high  # False for NaN
        if value.is_floating_point():
            ok = ok and -_INF < lo and hi < _INF
        if not ok:
            raise ValueError(_explain(name, value, low, high, strict))


def _to_host(extrema: list[tuple[Tensor, Tensor]]) -> list[tuple[float, float]]:
    """``(min, max)`` pairs as Python numbers, one transfer per dtype."""
    groups: dict[torch.dtype, list[int]] = {}
    for k, (lo, _) in enumerate(extrema):
        groups.setdefault(lo.dtype, []).append(k)
    found: list[tuple[float, float]] = [(0.0, 0.0)] * len(extrema)
    for members in groups.values():
        device = extrema[members[0]][0].device
        flat = torch.stack([t.to(device) for k in members for t in extrema[k]]).tolist()
        for n, k in enumerate(members):
            found[k] = (flat[2 * n], flat[2 * n + 1])
    return found


def _unpack(check: tuple) -> tuple[str, Tensor, float, float, bool]:
    name, value, *bounds = check
    low = bounds[0] if len(bounds) > 0 else -_INF
    high = bounds[1] if len(bounds) > 1 else _INF
    strict = bool(bounds[2]) if len(bounds) > 2 else False
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return name, value, low, high, strict


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
