r"""Per-network evaluation metrics of a power allocation, from the physics functions.

Every number comes from :meth:`~pyg_aggnn.data.WirelessEpisode.rates` and
:mod:`pyg_aggnn.wireless.physics` (``sum_rate``, ``power_budget_slack``); nothing here
re-implements a rate. The training module's batch means
(:func:`lightning_modules.metrics.allocation_metrics`) are the means of these
per-network values over equally sized networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pyg_aggnn._validation import check_non_negative, check_positive_int
from pyg_aggnn.wireless import physics

__all__ = ["NetworkMetrics", "network_metrics", "graph_index"]

#: The per-network metrics, in the order of every table.
METRICS = ("sum_rate", "power", "power_per_link", "violation", "served")


def graph_index(batch) -> tuple[Tensor, int]:
    """``(graph [N] long, B)`` of a batch of episodes or of a single episode."""
    graph = getattr(batch, "batch", None)
    if graph is None:
        return torch.zeros(batch.num_nodes, dtype=torch.long, device=batch.x.device), 1
    return graph, int(batch.num_graphs)


@dataclass
class NetworkMetrics:
    r"""What one allocation achieves on each network of a batch.

    Attributes (``B`` networks, ``N`` links in all; means over the scored slots and the
    action samples):

    * ``sum_rate``: ``[B]`` weighted sum rate :math:`\sum_i \alpha_i f_i` (nats per slot).
    * ``power``: ``[B]`` total transmit power :math:`\mathbf{1}^T\mathbf{p}` (linear).
    * ``power_per_link``: ``[B]`` ``power / m``.
    * ``violation``: ``[B]`` relative excess over the budget,
      :math:`\overline{\mathbf{1}^T\mathbf{p}} / P_{\max} - 1` (``<= 0`` meets the
      average power constraint).
    * ``served``: ``[B]`` fraction of links whose mean rate reaches ``served_rate``.
    * ``link_rate``: ``[N]`` mean rate of every link (nats per slot).
    * ``graph``: ``[N] long`` network of every link.
    """

    sum_rate: Tensor
    power: Tensor
    power_per_link: Tensor
    violation: Tensor
    served: Tensor
    link_rate: Tensor
    graph: Tensor

    def per_network(self) -> dict[str, Tensor]:
        """The ``[B]`` metrics by name (:data:`METRICS`)."""
        return {name: getattr(self, name) for name in METRICS}


def network_metrics(
    batch,
    power: Tensor,
    warmup_slots: int = 0,
    served_rate: float = 0.1,
    neighbours_only: bool = False,
) -> NetworkMetrics:
    r"""Evaluate powers on the air on every network of a batch.

    Args:
        batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`, ``N`` links,
            ``T`` slots.
        power: ``[N, T]`` or ``[N, T, S]`` transmit powers (linear) at every slot, ``S``
            independent action samples.
        warmup_slots: leading slots left out of every mean, e.g. ``K - 1`` while an
            aggregation buffer fills (default: ``0``).
        served_rate: mean rate (nats per slot) from which a link counts as served
            (default: ``0.1``).
        neighbours_only: count only above-threshold interferers in the rates (the
            papers' eq. (41); default: ``False``, physically complete).

    Returns:
        :class:`NetworkMetrics`.
    """
    num_slots = batch.num_slots
    check_positive_int("warmup_slots", warmup_slots, minimum=0)
    if warmup_slots >= num_slots:
        raise ValueError(
            f"warmup_slots must be smaller than the number of slots {num_slots}, got {warmup_slots}"
        )
    check_non_negative("served_rate", served_rate)
    if power.dim() == 2:
        power = power[..., None]
    if power.dim() != 3 or power.shape[:2] != (batch.num_nodes, num_slots):
        raise ValueError(
            f"power must have shape [{batch.num_nodes}, {num_slots}] or "
            f"[{batch.num_nodes}, {num_slots}, S], got {list(power.shape)}"
        )
    graph, num_graphs = graph_index(batch)
    power = power.to(batch.direct_gain.dtype)
    rates = batch.rates(power, neighbours_only=neighbours_only)[:, warmup_slots:]  # [N, T', S]
    power = power[:, warmup_slots:]
    total_rate = physics.sum_rate(rates, graph, batch.link_weight, num_graphs)  # [B, T', S]
    budget = batch.p_max_total.reshape(-1).to(power.dtype)  # [B]
    slack = physics.power_budget_slack(power, budget, graph, num_graphs)  # [B, T', S]
    total_power = budget[:, None, None] - slack
    sizes = torch.bincount(graph, minlength=num_graphs).to(power.dtype)  # [B]
    link_rate = rates.mean(dim=(1, 2))  # [N]
    served = torch.zeros(num_graphs, dtype=power.dtype, device=power.device)
    served.index_add_(0, graph, (link_rate >= served_rate).to(power.dtype))
    mean_power = total_power.mean(dim=(1, 2))
    return NetworkMetrics(
        sum_rate=total_rate.mean(dim=(1, 2)),
        power=mean_power,
        power_per_link=mean_power / sizes,
        violation=mean_power / budget - 1,
        served=served / sizes,
        link_rate=link_rate,
        graph=graph,
    )
