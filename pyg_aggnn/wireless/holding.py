r"""Asynchronous decisions: who holds which decision, and which rewards it earns.

A node that is inactive at slot :math:`t` keeps the action of its last active slot
(the papers' local copies :math:`\mathbf{A}_i(\tau)`); a decision taken at
slot :math:`s` is therefore *credited* with the rewards of every slot it is held for,
:math:`\{t \ge s : \text{last active slot of } i \text{ at } t = s\}`. Before its first
active slot a node transmits nothing.

All functions work on ``[N, T, *S]`` tensors (``N`` links, ``T`` slots, trailing sample
dimensions) and are differentiable in the values they move.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["last_active_slot", "hold", "credit"]


def _expand(index: Tensor, like: Tensor) -> Tensor:
    extra = like.dim() - index.dim()
    return index.reshape(*index.shape, *([1] * extra)).expand_as(like)


def last_active_slot(active: Tensor) -> Tensor:
    """Index of the last active slot at or before every slot.

    Args:
        active: ``[N, T] bool``, :math:`i \\in \\mathcal{A}(t)`.

    Returns:
        ``[N, T] long``: ``source[i, t] = max{s <= t : active[i, s]}``, or ``-1`` when
        node ``i`` has not been active yet.
    """
    if active.dim() != 2:
        raise ValueError(f"active must have shape [N, T], got {list(active.shape)}")
    slots = torch.arange(active.size(1), device=active.device).expand_as(active)
    index = torch.where(active.bool(), slots, torch.full_like(slots, -1))
    return index.cummax(dim=1).values


def hold(decision: Tensor, source: Tensor, initial: float = 0.0) -> Tensor:
    """The decision in force at every slot: ``decision[i, source[i, t]]``.

    Args:
        decision: ``[N, T, *S]`` decisions taken at every slot (only the active slots'
            entries are read).
        source: ``[N, T] long`` from :func:`last_active_slot`.
        initial: value before a node's first active slot (default: ``0.0``, silent).

    Returns:
        ``[N, T, *S]`` held decisions.
    """
    index = _expand(source.clamp_min(0), decision)
    held = decision.gather(1, index)
    return torch.where(_expand(source >= 0, decision), held, torch.full_like(held, initial))


def credit(reward: Tensor, source: Tensor) -> Tensor:
    """Sum the per-slot ``reward`` onto the decision that was held at each slot.

    Args:
        reward: ``[N, T, *S]`` reward of node ``i`` (or its graph) at slot ``t``.
        source: ``[N, T] long`` from :func:`last_active_slot`.

    Returns:
        ``[N, T, *S]``: entry ``[i, s]`` is :math:`\\sum_{t: \\text{source}[i,t]=s}`
        ``reward[i, t]``; zero at slots that took no decision.
    """
    index = _expand(source.clamp_min(0), reward)
    kept = reward * _expand(source >= 0, reward).to(reward.dtype)
    return torch.zeros_like(reward).scatter_add(1, index, kept)
