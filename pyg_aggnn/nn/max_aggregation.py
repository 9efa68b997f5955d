"""The element-wise maximum of messages per receiver, with a lean backward pass."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["complete_degree", "max_aggregate"]


def complete_degree(index: Tensor, num_nodes: int) -> int | None:
    """The common in-degree ``d`` when the receivers ``index`` (``[E]``) are sorted and
    every one of the ``num_nodes`` receivers has ``d`` edges (a complete slot graph, as
    the Gaussian interference channel's): the messages are then a ``[N, d, C]`` view;
    else ``None``.
    """
    edges = index.numel()
    degree = edges // max(num_nodes, 1)
    if degree == 0 or degree * num_nodes != edges:
        return None
    if not bool((index[1:] >= index[:-1]).all()):
        return None
    if not bool((torch.bincount(index, minlength=num_nodes) == degree).all()):
        return None
    return degree


class _MaxAggregation(torch.autograd.Function):
    """``out[i, c] = max_{e: index[e] = i} src[e, c]`` (``0`` without edges).

    The forward pass is PyG's on the CPU (``scatter_reduce_`` with ``"amax"`` and
    ``include_self=False``) or, on a complete receiver-sorted graph, the same maximum as
    a reduction over a view (a maximum is exact: the same values). The backward pass is
    torch's rule for ``amax`` (the gradient split evenly between the edges that attain
    the maximum, the zeros the output starts from counted among them as torch counts
    them; with one such edge, ``grad / 1``: the same numbers bit for bit) without the
    gradient of those zeros, which need none, and, on complete graphs, with
    broadcasting in place of gathers and scatters.
    """

    @staticmethod
    def forward(ctx, src: Tensor, index: Tensor, num_nodes: int, degree: int | None) -> Tensor:
        if degree is not None:
            out = src.view(num_nodes, degree, src.size(1)).amax(dim=1)
        else:
            out = _scatter_max(src, index, num_nodes)
        ctx.save_for_backward(src, index, out)
        ctx.degree = degree
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        src, index, out = ctx.saved_tensors
        degree = ctx.degree
        num_nodes, channels = out.shape
        if degree is not None:
            view = src.view(num_nodes, degree, channels)
            attains = (view == out[:, None, :]).to(grad.dtype)  # [N, d, C]
            ties = attains.sum(dim=1).add_(out == 0)  # [N, C], >= 1
            grad_src = (attains * (grad / ties)[:, None, :]).view_as(src)
        else:
            expanded = index[:, None].expand_as(src)
            attains = (src == out.gather(0, expanded)).to(grad.dtype)  # [E, C]
            ties = (out == 0).to(grad.dtype).scatter_add_(0, expanded, attains)  # >= 1
            grad_src = attains * (grad / ties).gather(0, expanded)
        return grad_src, None, None, None


def max_aggregate(src: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """The maximum of the rows of ``src`` (``[E, C]``) per receiver ``index`` (``[E]``),
    ``[num_nodes, C]``, zero for a receiver without edges: PyG's ``aggr="max"`` on the
    CPU in value and gradient, with about half the time of its backward pass on complete
    receiver-sorted graphs (see :class:`_MaxAggregation`).
    """
    if src.dim() != 2 or index.dim() != 1 or index.numel() != src.size(0):
        raise ValueError(
            f"max_aggregate expects src of shape [E, C] and index of shape [E], got "
            f"{tuple(src.shape)} and {tuple(index.shape)}"
        )
    if not (torch.is_grad_enabled() and src.requires_grad):
        return _scatter_max(src, index, num_nodes)
    return _MaxAggregation.apply(src, index, num_nodes, complete_degree(index, num_nodes))


def _scatter_max(src: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """PyG's CPU maximum aggregation (``torch_geometric.utils.scatter``, ``"max"``)."""
    expanded = index[:, None].expand_as(src)
    return src.new_zeros(num_nodes, src.size(1)).scatter_reduce_(
        0, expanded, src, "amax", include_self=False
    )
