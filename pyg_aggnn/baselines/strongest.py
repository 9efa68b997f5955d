"""Strongest links: a fixed fraction of the links with the best direct channel transmit."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import check_in_range
from pyg_aggnn.baselines._common import (
    check_gain,
    graph_sizes,
    per_graph,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.data.batching import batch_vector

__all__ = ["strongest", "Strongest"]

# Guards floor(fraction * m) against rounding, e.g. 0.29 * 100 = 28.999999999999996.
_ROUNDING = 1e-9


def strongest(
    direct_gain: Tensor,
    max_power: Tensor,
    fraction: float | Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Full power on the :math:`k = \lfloor f\, m \rfloor` links with the largest direct gain.

    .. math::
        p_i = p_{0,i}\, \mathbb{1}\big[\mathrm{rank}_i(|h_{ii}|) < \lfloor f\, m \rfloor\big]

    where :math:`\mathrm{rank}_i` is link :math:`i`'s position when its network's links
    are sorted by decreasing direct gain (ties broken by the lower index), separately for
    every trailing index (slot).

    Args:
        direct_gain: ``[N, *S] float`` direct amplitudes :math:`|h_{ii}|`.
        max_power: ``[N] float`` per-link maximum power :math:`p_0`.
        fraction: fraction :math:`f \in [0, 1]` of the links of each network that
            transmit, float or ``[B]`` (one per network).
        batch: ``[N] long`` network of every link (default: ``None``, one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[N, *S]`` powers in :math:`\{0, p_{0,i}\}`.
    """
    if not isinstance(direct_gain, Tensor) or direct_gain.dim() < 1:
        raise ValueError(f"direct_gain must be a [N, *S] tensor, got {type(direct_gain).__name__}")
    num_nodes, shape = direct_gain.size(0), tuple(direct_gain.shape[1:])
    check_gain("direct_gain", direct_gain, num_nodes)
    p0 = per_node("max_power", max_power, num_nodes, direct_gain, positive=True)
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, direct_gain.device)
    if not isinstance(fraction, Tensor):
        check_in_range("fraction", fraction, 0.0, 1.0)
    fraction = per_graph("fraction", fraction, num_graphs, direct_gain)
    if bool((fraction > 1).any()):
        raise ValueError("fraction must lie in [0, 1], got entries above 1")
    count = torch.floor(fraction * graph_sizes(batch, num_graphs) + _ROUNDING).long()  # [B]

    gain = direct_gain.reshape(num_nodes, math.prod(shape))  # [N, s]
    # Sort by decreasing gain, then (stably) by network: links of a network stay
    # together in decreasing-gain order.
    order = torch.sort(gain, dim=0, descending=True, stable=True).indices  # [N, s]
    order = order.gather(0, torch.sort(batch[order], dim=0, stable=True).indices)
    start = torch.cumsum(graph_sizes(batch, num_graphs), 0) - graph_sizes(batch, num_graphs)
    position = torch.arange(num_nodes, device=gain.device)[:, None]
    rank = torch.empty_like(order)
    rank.scatter_(0, order, position.expand_as(order) - start[batch[order]])
    on = rank < count[batch][:, None]
    return (p0[:, None] * on).reshape(num_nodes, *shape)


class Strongest(Baseline):
    r""":func:`strongest` as a policy, recomputed from each decision slot's direct gains.

    Args:
        fraction: fraction of links that transmit (default: ``None``: the budget's
            fraction :math:`P_{\max} / (\bar p_0 m)` of each network, capped at 1, with
            :math:`\bar p_0` the mean per-link maximum, so that the
            :math:`\lfloor f m \rfloor` active links use at most :math:`P_{\max}` when
            all links share one :math:`p_0`).
        update_every, when_active: see :class:`Baseline`.
    """

    def __init__(
        self, fraction: float | None = None, update_every: int = 1, when_active: bool = False
    ):
        super().__init__(update_every=update_every, when_active=when_active)
        self.fraction = None if fraction is None else check_in_range("fraction", fraction, 0, 1)

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        vector, num_graphs = batch_vector(batch)
        fraction = self.fraction
        if fraction is None:
            resolved, _ = resolve_batch(batch.max_power.size(0), vector, num_graphs, slots.device)
            p0_sum = torch.zeros(num_graphs, dtype=batch.max_power.dtype, device=slots.device)
            p0_sum.index_add_(0, resolved, batch.max_power)
            fraction = (batch.p_max_total.reshape(-1) / p0_sum).clamp(max=1.0)
        return strongest(batch.direct_gain[:, slots], batch.max_power, fraction, vector, num_graphs)

    def extra_repr(self) -> str:
        return f"fraction={self.fraction}, {super().extra_repr()}"
