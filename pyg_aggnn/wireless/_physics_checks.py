"""Argument checks of :mod:`pyg_aggnn.wireless.physics`, kept apart from the maths.

Python-side checks (types, shapes) raise at once; value checks are returned as
:func:`~pyg_aggnn._validation.check_values` tuples so that every public physics function
runs one fused check for all its tensors.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import (
    amplitude_limit,
    check_float_tensor,
    check_positive,
    check_positive_int,
    check_values,
)

__all__: list[str] = []


def check_index(edge_index: object, num_nodes: int) -> Tensor:
    """Python-side check of an ``[2, E]`` integer edge list (values: see callers)."""
    if (
        not isinstance(edge_index, Tensor)
        or edge_index.dim() != 2
        or edge_index.size(0) != 2
        or edge_index.is_floating_point()
        or edge_index.dtype == torch.bool
    ):
        got = list(edge_index.shape) if isinstance(edge_index, Tensor) else edge_index
        raise ValueError(f"edge_index must be an integer tensor of shape [2, E], got {got!r}")
    return edge_index


def check_leading(name: str, value: Tensor, size: int, symbol: str, power: Tensor) -> None:
    """``value: [size, *S']`` with ``*S'`` no longer than ``power``'s trailing ``*S``."""
    if value.dim() < 1 or value.size(0) != size or value.dim() > power.dim():
        raise ValueError(
            f"{name} must have shape [{symbol}] or [{symbol}, *S] with {symbol} = {size} and "
            f"*S broadcasting against power's trailing {list(power.shape[1:])}, "
            f"got {list(value.shape)}"
        )


def _trailing(value: Tensor, dim: int) -> tuple[int, ...]:
    return (*value.shape[1:], *([1] * (dim - value.dim())))


def check_broadcast(power: Tensor, **others: Tensor) -> None:
    shapes = {name: _trailing(v, power.dim()) for name, v in others.items()}
    try:
        torch.broadcast_shapes(tuple(power.shape[1:]), *shapes.values())
    except RuntimeError:
        got = ", ".join(f"{name} {list(v.shape)}" for name, v in others.items())
        raise ValueError(
            f"the trailing dimensions of power {list(power.shape)} and {got} must "
            "broadcast against each other"
        ) from None


def amplitude_checks(power: Tensor, **gains: Tensor) -> list[tuple]:
    limit = amplitude_limit(power.dtype)
    return [(name, gain, 0.0, limit) for name, gain in gains.items()]


def check_noise(noise_power: float | Tensor, power: Tensor) -> list[tuple]:
    """Python-side noise check; returns the value check of a tensor noise."""
    if not isinstance(noise_power, Tensor):
        check_positive("noise_power", noise_power)
        return []
    check_float_tensor("noise_power", noise_power, "[N] or [N, *S]")
    if noise_power.dim() > 0:
        check_leading("noise_power", noise_power, power.size(0), "N", power)
    return [("noise_power", noise_power, 0.0, math.inf, True)]


def check_channel(power, direct_gain, edge_index, edge_gain, noise_power) -> None:
    """Validate everything :func:`sinr` and :func:`rate` receive, with one sync."""
    check_float_tensor("power", power, "[N, *S]")
    if power.dim() < 1:
        raise ValueError(f"power must have shape [N, *S], got a scalar {power.item()!r}")
    num_nodes = power.size(0)
    check_float_tensor("direct_gain", direct_gain, "[N, *S]")
    check_leading("direct_gain", direct_gain, num_nodes, "N", power)
    edge_index = check_index(edge_index, num_nodes)
    check_float_tensor("edge_gain", edge_gain, "[E, *S]")
    check_leading("edge_gain", edge_gain, edge_index.size(1), "E", power)
    noise = check_noise(noise_power, power)
    extra = {"noise_power": noise_power} if noise and noise_power.dim() else {}
    check_broadcast(power, direct_gain=direct_gain, edge_gain=edge_gain, **extra)
    check_values(
        ("power", power, 0.0),
        *amplitude_checks(power, direct_gain=direct_gain, edge_gain=edge_gain),
        ("edge_index", edge_index, 0, num_nodes - 1),
        *noise,
    )


def check_per_link(name: str, value: object, shape: str) -> Tensor:
    check_float_tensor(name, value, shape)
    if value.dim() < 1:
        raise ValueError(f"{name} must have shape {shape}, got a scalar {value.item()!r}")
    return value


def graph_checks(
    batch: Tensor | None, num_graphs: int | None, num_nodes: int, name: str = "rates"
) -> list[tuple]:
    """Python-side checks of ``batch`` / ``num_graphs``; returns the value check of
    ``batch``.
    """
    if num_graphs is not None:
        check_positive_int("num_graphs", num_graphs)
    if batch is None:
        return []
    if (
        not isinstance(batch, Tensor)
        or batch.is_floating_point()
        or batch.dtype == torch.bool
        or batch.dim() != 1
        or batch.size(0) != num_nodes
    ):
        got = f"{batch.dtype} {list(batch.shape)}" if isinstance(batch, Tensor) else batch
        raise ValueError(
            f"batch must be a [{num_nodes}] integer tensor (the network of every link of "
            f"{name}), got {got!r}"
        )
    high = math.inf if num_graphs is None else num_graphs - 1
    return [("batch", batch, 0, high)]


def check_weight(weight: Tensor | None, values: Tensor) -> list[tuple]:
    if weight is None:
        return []
    check_float_tensor("weight", weight, "[N]")
    if weight.dim() != 1 or weight.size(0) != values.size(0):
        raise ValueError(f"weight must have shape [{values.size(0)}], got {list(weight.shape)}")
    return [("weight", weight, 0.0)]
