"""What training and evaluation log: allocation metrics of powers, and dual statistics.

Rates come from the problem (:meth:`~lightning_modules.PowerProblem.reward`) or
:meth:`~pyg_aggnn.data.WirelessEpisode.rates`, sums from
:mod:`pyg_aggnn.wireless.physics`; nothing here re-implements the physics.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn.wireless import physics

__all__ = ["graphs", "scored_slots", "rates_and_reward", "allocation_metrics", "dual_metrics"]


def graphs(batch) -> tuple[Tensor, Tensor, int]:
    """``(graph [N] long, ptr [B + 1] long, B)`` of a batch, or of a single episode."""
    graph = getattr(batch, "batch", None)
    if graph is None:
        device = batch.direct_gain.device
        graph = torch.zeros(batch.num_nodes, dtype=torch.long, device=device)
        return graph, torch.tensor([0, batch.num_nodes], device=device), 1
    return graph, batch.ptr, int(batch.num_graphs)


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


def allocation_metrics(
    problem, batch, power: Tensor, rates: Tensor, reward: Tensor, scored: Tensor
) -> dict[str, Tensor]:
    r"""Means over networks, scored slots and samples of an allocation.

    Args:
        problem: the :class:`~lightning_modules.PowerProblem` (minimum rate).
        batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`.
        power: ``[N, T, S]`` powers on the air.
        rates: ``[N, T, S]`` their rates.
        reward: ``[N, T, S]`` the problem's reward.
        scored: ``[T, 1]`` from :func:`scored_slots`.

    Returns:
        ``sum_rate`` (:math:`\sum_i \alpha_i f_i` per network and slot),
        ``power_per_link``, ``violation`` (:math:`\mathbf{1}^T\mathbf{p} / P_{\max} - 1`,
        ``<= 0`` meets the budget), ``reward`` (per link) and, with a minimum rate,
        ``rate_violation`` (mean shortfall of the links' average rates).
    """
    graph, _, num_graphs = graphs(batch)
    samples, slots = power.size(-1), scored.sum()
    per_graph = num_graphs * samples * slots
    per_link = batch.num_nodes * samples * slots
    total = physics.sum_rate(rates, graph, batch.link_weight, num_graphs)  # [B, T, S]
    budget = batch.p_max_total.reshape(-1)[:, None, None]
    excess = -problem.power_slack(batch, power) / budget  # [B, T, S]
    metrics = {
        "sum_rate": (total * scored).sum() / per_graph,
        "power_per_link": (power * scored).sum() / per_link,
        "violation": (excess * scored).sum() / per_graph,
        "reward": (reward * scored).sum() / per_link,
    }
    if problem.min_rate is not None:
        mean_rate = (rates * scored).sum((1, 2)) / (samples * slots)  # [N]
        metrics["rate_violation"] = (problem.min_rate - mean_rate).clamp_min(0).mean()
    return metrics


def dual_metrics(duals) -> dict[str, Tensor]:
    """Statistics of :class:`~lightning_modules.DualVariables`."""
    metrics = {
        "lambda_mean": duals.lam.mean(),
        "lambda_max": duals.lam.max(),
        "mu_power": duals.mu_power[0],
        "power_price": duals.power_price[0],
        "slack_mean": duals.slack.mean(),
    }
    if duals.mu_rate.numel():
        metrics["mu_rate_mean"] = duals.mu_rate.mean()
    return metrics
