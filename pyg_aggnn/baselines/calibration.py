r"""``calibrate_price``: the fixed power price of the decentralized WMMSE, set offline."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch

from pyg_aggnn._validation import check_positive, check_positive_int
from pyg_aggnn.baselines._common import per_graph, per_node, resolve_batch
from pyg_aggnn.baselines.wmmse import WMMSE
from pyg_aggnn.data.batching import batch_vector
from pyg_aggnn.wireless import physics

__all__ = ["calibrate_price"]


def _as_batch(episodes):
    if isinstance(episodes, Batch):
        return episodes
    if isinstance(episodes, Sequence) and len(episodes) > 0:
        return Batch.from_data_list(list(episodes))
    if getattr(episodes, "direct_gain", None) is not None:  # one episode
        return Batch.from_data_list([episodes])
    raise ValueError(
        f"episodes must be a non-empty list of WirelessEpisodes or a batch of them, "
        f"got {type(episodes).__name__}"
    )


def _price_bound(batch, graph: Tensor, num_graphs: int, budget: Tensor) -> float:
    r"""A price at which every slot of every episode meets its budget.

    In every iteration :math:`v_i \le \alpha_i h_{ii}^2 \sqrt{p_{0,i}} / (\sigma_i^2 \mu)`
    (the v-step's numerator over the price, with :math:`q_i \ge \sigma_i^2`), so at
    :math:`\mu = \max_{b, t} \sqrt{\sum_{i \in b} (\alpha_i h_{ii}^2 \sqrt{p_{0,i}} /
    \sigma_i^2)^2 / P_b}` the total power of every slot is at most :math:`P_b`.
    """
    like = batch.direct_gain
    noise = per_node("noise_power", batch.noise_power, like.size(0), like, positive=True)
    bound = batch.link_weight * batch.max_power.sqrt() / noise  # [N]
    bound = bound[:, None] * like.square()  # [N, T]
    per_slot = like.new_zeros(num_graphs, like.size(1)).index_add_(0, graph, bound.square())
    return float((per_slot / budget[:, None]).max().sqrt())


@torch.no_grad()
def calibrate_price(
    baseline: WMMSE,
    episodes,
    rtol: float = 1e-2,
    max_iters: int = 60,
    seed: int = 0,
    warmup_slots: int = 0,
) -> float:
    r"""Set the fixed price of ``baseline`` (a ``WMMSE(budget="price")``) offline, so that
    its mean total power on ``episodes`` meets the budget on average.

    The price :math:`\mu \ge 0` is one scalar, like a learned weight: with
    :math:`\bar P(\mu)` the total power :math:`\mathbf{1}^T \mathbf{p}(t)` of the policy at
    price :math:`\mu`, averaged over every network and every scored slot
    :math:`t \ge` ``warmup_slots`` of ``episodes`` (the slots a learned policy's budget
    constraint and every evaluation count), and
    :math:`\bar P_{\max}` the mean budget ``p_max_total``,

    .. math::
        \mu^\star = \min\{\mu \ge 0 : \bar P(\mu) \le \bar P_{\max}\},

    found by bisection (zero if the price-free policy already meets the budget on
    average). The budget then holds on average over the episodes, not in every slot.
    The bisection keeps a price that meets the budget and stops once its mean power is
    within ``rtol`` of the budget, once the bracket is ``rtol`` narrow relative to
    the price, or after ``max_iters`` evaluations; the episodes should be training
    episodes, never the held-out ones the policy is evaluated on.

    Args:
        baseline: a :class:`~pyg_aggnn.baselines.WMMSE` with ``budget="price"``; its
            ``price`` is overwritten.
        episodes: a list of :class:`~pyg_aggnn.data.WirelessEpisode` or a batch of them.
        rtol: relative tolerance on the mean power and the price (default: ``1e-2``).
        max_iters: most bisection steps (default: ``60``).
        seed: seed of the random stream of the policy (``init="random"``), the same at
            every price (default: ``0``).
        warmup_slots: leading slots left out of the mean power, as in the evaluation
            the price is calibrated for (default: ``0``). In an asynchronous setting the
            early slots, when many links have not woken yet, draw less power than the
            scored ones: a price calibrated over them overspends the budget there.

    Returns:
        The calibrated price, also stored in ``baseline.price``.
    """
    if not isinstance(baseline, WMMSE) or baseline.budget != "price":
        raise ValueError(f"baseline must be a WMMSE with budget='price', got {baseline!r}")
    rtol = check_positive("rtol", rtol)
    max_iters = check_positive_int("max_iters", max_iters)
    seed = check_positive_int("seed", seed, minimum=0)
    warmup_slots = check_positive_int("warmup_slots", warmup_slots, minimum=0)
    batch = _as_batch(episodes)
    num_slots = batch.direct_gain.size(1)
    if warmup_slots >= num_slots:
        raise ValueError(
            f"warmup_slots must be smaller than the episodes' {num_slots} slots, got {warmup_slots}"
        )
    vector, num_graphs = batch_vector(batch)
    graph, _ = resolve_batch(batch.num_nodes, vector, num_graphs, batch.direct_gain.device)
    budget = per_graph("p_max_total", batch.p_max_total, num_graphs, batch.direct_gain)  # [B]
    mean_budget = float(budget.mean())
    if not mean_budget > 0 or not math.isfinite(mean_budget):
        raise ValueError(f"episodes must have a positive budget p_max_total, got {mean_budget}")

    def mean_power(price: float) -> float:
        baseline.price = price
        power = baseline(batch, generator=torch.Generator().manual_seed(seed))  # [N, T]
        slack = physics._power_budget_slack(power, budget, vector, num_graphs)  # [B, T]
        return mean_budget - float(slack[:, warmup_slots:].mean())

    if mean_power(0.0) <= mean_budget:
        return 0.0
    low, high = 0.0, _price_bound(batch, graph, num_graphs, budget)
    for _ in range(max_iters):
        mid = 0.5 * (low + high)
        power = mean_power(mid)
        if power > mean_budget:
            low = mid
        else:
            high = mid
            if power >= (1 - rtol) * mean_budget:
                break
        if high - low <= rtol * high:
            break
    baseline.price = high
    return high
