r"""Metrics of a power allocation, per network and as batch means, from the physics.

Every number comes from :meth:`~pyg_aggnn.data.WirelessEpisode.rates` (or the problem's
:meth:`~pyg_aggnn.problem.PowerProblem.reward`) and :mod:`pyg_aggnn.wireless.physics`
(``sum_rate``, ``power_budget_slack``); nothing here re-implements a rate.
:func:`network_metrics` gives the per-network values that evaluation tabulates;
:func:`allocation_metrics`, what training logs, is their mean over the networks of a
batch (the power per link over its links).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pyg_aggnn._validation import check_non_negative, check_positive_int
from pyg_aggnn.data.batching import graph_index as _graph_index
from pyg_aggnn.wireless import miso, physics

__all__ = [
    "NetworkMetrics",
    "network_metrics",
    "graph_index",
    "scored_slots",
    "rates_and_reward",
    "allocation_metrics",
]

#: The per-network metrics, in the order of every table.
METRICS = ("sum_rate", "power", "power_per_link", "violation", "served")


def graph_index(batch) -> tuple[Tensor, int]:
    """``(graph [N] long, B)`` of a batch of episodes or of a single episode."""
    graph, _, num_graphs = _graph_index(batch)
    return graph, num_graphs


def scored_slots(batch, warmup_slots: int) -> Tensor:
    """``[T, 1]`` float mask of the slots whose rewards count (``t >= warmup_slots``)."""
    slots = torch.arange(batch.num_slots, device=batch.direct_gain.device)
    return (slots >= warmup_slots).to(batch.direct_gain.dtype)[:, None]


def rates_and_reward(problem, batch, power: Tensor) -> tuple[Tensor, Tensor]:
    """Physical rates and the problem's reward of powers ``[N, T, S]`` (computed once
    when the reward is the rate).
    """
    reward = problem.reward(batch, power)
    if getattr(problem, "reward_is_rate", False):
        return reward, reward
    return batch.rates(power, neighbours_only=problem.neighbours_only), reward


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
    rates: Tensor | None = None,
) -> NetworkMetrics:
    r"""Evaluate powers on the air on every network of a batch.

    Args:
        batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`, ``N`` links,
            ``T`` slots.
        power: ``[N, T]`` or ``[N, T, S]`` transmit powers (linear) at every slot, ``S``
            independent action samples, or ``[N, T, S, N_t]`` complex beamformers on a
            MISO episode (:mod:`pyg_aggnn.wireless.miso`; their power is
            :math:`\|v\|^2`).
        warmup_slots: leading slots left out of every mean, e.g. ``K - 1`` while an
            aggregation buffer fills (default: ``0``).
        served_rate: mean rate (nats per slot) from which a link counts as served
            (default: ``0.1``).
        neighbours_only: count only above-threshold interferers in the rates (the
            papers' eq. (41); default: ``False``, physically complete).
        rates: ``[N, T, S]`` rates of ``power`` if already computed (default: ``None``,
            computed here).

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
    if power.is_complex():  # beamformers: rates of the beams, powers ||v||^2
        if rates is None:
            rates = batch.rates(power, neighbours_only=neighbours_only)
        power = miso.transmit_power(power)
    if power.dim() == 2:
        power = power[..., None]
    if power.dim() != 3 or power.shape[:2] != (batch.num_nodes, num_slots):
        raise ValueError(
            f"power must have shape [{batch.num_nodes}, {num_slots}] or "
            f"[{batch.num_nodes}, {num_slots}, S], got {list(power.shape)}"
        )
    graph, num_graphs = graph_index(batch)
    power = power.to(batch.direct_gain.dtype)
    if rates is None:
        rates = batch.rates(power, neighbours_only=neighbours_only)
    rates = rates[:, warmup_slots:]  # [N, T', S]
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


def allocation_metrics(
    problem, batch, power: Tensor, rates: Tensor, reward: Tensor, scored: Tensor
) -> dict[str, Tensor]:
    r"""Means over the networks of a batch of their :func:`network_metrics`.

    Args:
        problem: the :class:`~pyg_aggnn.problem.PowerProblem` (minimum rate).
        batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`.
        power: ``[N, T, S]`` powers on the air.
        rates: ``[N, T, S]`` their rates.
        reward: ``[N, T, S]`` the problem's reward.
        scored: ``[T, 1]`` from :func:`scored_slots`.

    Returns:
        ``sum_rate`` (:math:`\sum_i \alpha_i f_i` per network and slot),
        ``power_per_link`` (over all the links of the batch), ``violation``
        (:math:`\mathbf{1}^T\mathbf{p} / P_{\max} - 1`, ``<= 0`` meets the budget),
        ``reward`` (per link) and, with a minimum rate, ``rate_violation`` (mean
        shortfall of the links' average rates).
    """
    warmup = int(batch.num_slots - scored.sum())
    per_network = network_metrics(batch, power, warmup, rates=rates)
    metrics = {
        "sum_rate": per_network.sum_rate.mean(),
        "power_per_link": per_network.power.sum() / batch.num_nodes,
        "violation": per_network.violation.mean(),
        "reward": reward[:, warmup:].mean(),
    }
    if problem.min_rate is not None:
        shortfall = problem.min_rate - per_network.link_rate  # [N]
        metrics["rate_violation"] = shortfall.clamp_min(0).mean()
    return metrics
