"""Equal power allocation: every link gets the same share of the budget."""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn.baselines._common import graph_sizes, per_graph, per_node, resolve_batch
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.data.batching import batch_vector

__all__ = ["equal_power", "EqualPower"]


def equal_power(
    max_power: Tensor,
    p_max_total: float | Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Equal share of the total budget, capped by the per-link maximum.

    .. math::
        p_i = \min\big(p_{0,i},\; P_{\max} / m\big)

    with :math:`m` the number of links of link :math:`i`'s network, so
    :math:`\sum_i p_i \le P_{\max}` holds in every slot.

    Args:
        max_power: ``[N] float`` per-link maximum power :math:`p_0` (linear).
        p_max_total: total budget :math:`P_{\max}` per network, float or ``[B]``.
        batch: ``[N] long`` network of every link (default: ``None``, one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[N]`` powers.
    """
    if not isinstance(max_power, Tensor) or max_power.dim() != 1:
        raise ValueError(f"max_power must be a [N] tensor, got {max_power!r}")
    num_nodes = max_power.size(0)
    p0 = per_node("max_power", max_power, num_nodes, max_power, positive=True)
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, max_power.device)
    share = per_graph("p_max_total", p_max_total, num_graphs, p0)
    share = share / graph_sizes(batch, num_graphs).clamp(min=1)
    return torch.minimum(p0, share[batch])


class EqualPower(Baseline):
    """:func:`equal_power` as a policy (the same powers at every decision slot).

    Args:
        update_every, when_active: see :class:`Baseline`.
    """

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        vector, num_graphs = batch_vector(batch)
        power = equal_power(batch.max_power, batch.p_max_total, vector, num_graphs)
        return power[:, None].expand(-1, slots.numel()).contiguous()
