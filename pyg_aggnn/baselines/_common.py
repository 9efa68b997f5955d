"""Small helpers shared by the baselines: graph membership and per-graph values.

Every helper checks its tensor's values with one reduction and one host synchronisation
(:func:`~pyg_aggnn._validation.check_values`); scalars are checked in Python.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import (
    amplitude_limit,
    check_non_negative,
    check_positive,
    check_values,
)
from pyg_aggnn.wireless._physics_checks import check_index

__all__: list[str] = []


def resolve_batch(
    num_nodes: int, batch: Tensor | None, num_graphs: int | None, device: torch.device
) -> tuple[Tensor, int]:
    """Return ``(batch [N] long, B)``; ``batch=None`` means a single network."""
    if batch is None:
        return torch.zeros(num_nodes, dtype=torch.long, device=device), 1
    if not isinstance(batch, Tensor) or batch.dim() != 1 or batch.size(0) != num_nodes:
        shape = list(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__
        raise ValueError(f"batch must be a [{num_nodes}] long tensor, got {shape}")
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if num_nodes else 1
    return batch.long(), int(num_graphs)


def graph_sizes(batch: Tensor, num_graphs: int) -> Tensor:
    """Number of links ``m`` of every network, ``[B] long``."""
    return torch.bincount(batch, minlength=num_graphs)


def per_graph(name: str, value: float | Tensor, num_graphs: int, like: Tensor) -> Tensor:
    """A float or ``[B]`` tensor of per-network values as a ``[B]`` tensor like ``like``."""
    if isinstance(value, Tensor):
        value = value.reshape(-1)
        if value.numel() == 1:
            value = value.expand(num_graphs)
        if value.numel() != num_graphs:
            raise ValueError(
                f"{name} must be a float or a [{num_graphs}] tensor, got {value.numel()} values"
            )
        check_values((name, value, 0.0))
        return value.to(dtype=like.dtype, device=like.device)
    check_non_negative(name, value)
    return torch.full((num_graphs,), float(value), dtype=like.dtype, device=like.device)


def per_node(
    name: str, value: float | Tensor, num_nodes: int, like: Tensor, positive: bool = False
) -> Tensor:
    """A float or ``[N]`` tensor of per-link values as a ``[N]`` tensor like ``like``."""
    if isinstance(value, Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise ValueError(f"{name} must be a real float or tensor, got {value.dtype}")
        value = value.reshape(-1)
        if value.numel() == 1:
            value = value.expand(num_nodes)
        if value.numel() != num_nodes:
            raise ValueError(
                f"{name} must be a float or a [{num_nodes}] tensor, got {value.numel()} values"
            )
        value = value.to(dtype=like.dtype, device=like.device)
        check_values((name, value, 0.0, math.inf, positive))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a float or a tensor, got {value!r}")
    value = check_positive(name, value) if positive else check_non_negative(name, value)
    return torch.full((num_nodes,), value, dtype=like.dtype, device=like.device)


def check_gain(name: str, value: Tensor, leading: int) -> Tensor:
    """Check an amplitude tensor whose first dimension is ``leading``: finite, ``>= 0``
    and at most :func:`~pyg_aggnn._validation.amplitude_limit` of its dtype, so that
    squared gains and WMMSE's products of them cannot overflow.

    One reduction instead of element-wise masks: these tensors can hold millions of
    entries and are checked on every call.
    """
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point() or value.dim() < 1 or value.size(0) != leading:
        raise ValueError(
            f"{name} must be a floating tensor of shape [{leading}, *S], got "
            f"{value.dtype} {list(value.shape)}"
        )
    check_values((name, value, 0.0, amplitude_limit(value.dtype)))
    return value


def check_edge_index(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Check an ``[2, E]`` integer edge list with node indices in ``[0, N)``."""
    edge_index = check_index(edge_index, num_nodes)
    if edge_index.numel():
        low, high = torch.aminmax(edge_index)
        if low < 0 or high >= num_nodes:
            raise ValueError(
                f"edge_index must hold node indices in [0, {num_nodes}), got [{low}, {high}]"
            )
    return edge_index.long()


def draw_uniform(shape: tuple[int, ...], generator: torch.Generator, like: Tensor) -> Tensor:
    """``U[0, 1)`` draws on the generator's device, returned on ``like``'s device and dtype.

    Draws happen where the generator lives (the CPU by default), so one seed gives the
    same numbers whichever device the episode is on.
    """
    u = torch.rand(shape, generator=generator, dtype=like.dtype, device=generator.device)
    return u.to(like.device)


def check_channel(
    direct_gain: Tensor, edge_index: Tensor, edge_gain: Tensor
) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Validate a ``[N, *S]`` direct gain with its edge list and ``[E]`` / ``[E, *S]`` gains.

    Returns ``(edge_index, edge_gain, S)`` with ``edge_gain`` expanded to ``[E, *S]``.
    """
    if not isinstance(direct_gain, Tensor) or direct_gain.dim() < 1:
        raise ValueError(f"direct_gain must be a [N, *S] tensor, got {type(direct_gain).__name__}")
    num_nodes, shape = direct_gain.size(0), tuple(direct_gain.shape[1:])
    check_gain("direct_gain", direct_gain, num_nodes)
    edge_index = check_edge_index(edge_index, num_nodes)
    num_edges = edge_index.size(1)
    check_gain("edge_gain", edge_gain, num_edges)
    if edge_gain.dim() == 1:
        edge_gain = edge_gain.reshape(num_edges, *([1] * len(shape))).expand(num_edges, *shape)
    if tuple(edge_gain.shape[1:]) != shape:
        raise ValueError(
            f"edge_gain must have shape [E] or [E, *S] matching direct_gain's "
            f"{list(direct_gain.shape)}, got {list(edge_gain.shape)}"
        )
    return edge_index, edge_gain, shape
