"""Exhaustive search: the best binary allocation of small networks."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn.baselines._common import (
    check_channel,
    graph_sizes,
    per_graph,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.data.batching import batch_vector
from pyg_aggnn.wireless import physics

__all__ = ["exhaustive", "Exhaustive"]

MAX_LINKS = 16
# Rates of at most this many (edge, pattern) pairs are held at once.
_CHUNK_ENTRIES = 2**22


def exhaustive(
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    max_power: Tensor,
    noise_power: float | Tensor = 1.0,
    link_weight: Tensor | None = None,
    p_max_total: float | Tensor | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Best on/off allocation by enumerating all :math:`2^m` patterns (:math:`m \le 16`).

    .. math::
        p^\star = \operatorname*{arg\,max}_{p \in \{0, p_{0,1}\} \times \dots \times
        \{0, p_{0,m}\}} \sum_i \alpha_i \log\big(1 + \mathrm{SINR}_i(p)\big)
        \quad \text{s.t.} \quad \sum_i p_i \le P_{\max}

    (the constraint only if ``p_max_total`` is given; it is met per slot, up to
    floating-point rounding). Rates come from :func:`pyg_aggnn.wireless.physics.rate`
    on the pairs of ``edge_index``. Networks of different sizes are searched together
    over the largest one's patterns; ties go to the pattern with the lowest index
    (bit :math:`k` = the network's :math:`k`-th link). The optimum over binary powers is
    an upper bound for every binary policy (random full power, strongest links, the
    learned Bernoulli policies); continuous allocations such as WMMSE may exceed it.

    Args:
        direct_gain: ``[N, *S] float`` direct amplitudes :math:`|h_{ii}|`.
        edge_index: ``[2, E] long`` pairs ``j -> i``; self loops are ignored.
        edge_gain: ``[E, *S]`` (or ``[E]``) amplitudes :math:`|h_{ij}|`.
        max_power: ``[N]`` per-link maximum power :math:`p_0`.
        noise_power: noise power :math:`\sigma^2 > 0`, float or ``[N]`` (default: ``1.0``).
        link_weight: ``[N]`` weights :math:`\alpha_i` (default: ones).
        p_max_total: total budget per network, float or ``[B]`` (default: ``None``, no
            budget).
        batch: ``[N] long`` network of every link (default: ``None``, one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[N, *S]`` optimal powers in :math:`\{0, p_{0,i}\}`.
    """
    edge_index, edge_gain, shape = check_channel(direct_gain, edge_index, edge_gain)
    num_nodes, num_edges = direct_gain.size(0), edge_index.size(1)
    like = direct_gain
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, like.device)
    p0 = per_node("max_power", max_power, num_nodes, like, positive=True)
    noise = per_node("noise_power", noise_power, num_nodes, like, positive=True)
    alpha = per_node("link_weight", 1.0 if link_weight is None else link_weight, num_nodes, like)
    budget = None
    if p_max_total is not None:
        budget = per_graph("p_max_total", p_max_total, num_graphs, like)
        budget = budget + 4 * MAX_LINKS * torch.finfo(like.dtype).eps * budget.clamp(min=1)
    sizes = graph_sizes(batch, num_graphs)
    largest = int(sizes.max()) if num_nodes else 0
    if largest > MAX_LINKS:
        raise ValueError(
            f"exhaustive search needs networks of at most {MAX_LINKS} links, got m = {largest}"
        )
    local = torch.arange(num_nodes, device=like.device) - (torch.cumsum(sizes, 0) - sizes)[batch]
    num_patterns = 2**largest
    chunk = max(1, _CHUNK_ENTRIES // max(num_edges, num_nodes, 1))

    s = math.prod(shape)
    direct, gains = direct_gain.reshape(num_nodes, s), edge_gain.reshape(num_edges, s)
    best = torch.zeros(num_graphs, s, dtype=torch.long, device=like.device)
    for k in range(s):
        best_value = torch.full((num_graphs,), -math.inf, dtype=like.dtype, device=like.device)
        for start in range(0, num_patterns, chunk):
            pattern = torch.arange(start, min(start + chunk, num_patterns), device=like.device)
            bits = (pattern[None, :] >> local[:, None]) & 1  # [N, P]
            power = p0[:, None] * bits
            # inputs checked above: the unchecked physics, no host sync per pattern chunk
            rates = physics._rate(power, direct[:, k], edge_index, gains[:, k], noise)
            value = physics._sum_rate(rates, batch, alpha, num_graphs)  # [B, P]
            if budget is not None:
                feasible = physics._power_budget_slack(power, budget, batch, num_graphs) >= 0
                value = torch.where(feasible, value, -math.inf)
            top, index = value.max(dim=1)
            better = top > best_value
            best_value = torch.where(better, top, best_value)
            best[:, k] = torch.where(better, pattern[index], best[:, k])
    on = (best[batch] >> local[:, None]) & 1  # [N, s]
    return (p0[:, None] * on).reshape(num_nodes, *shape)


class Exhaustive(Baseline):
    """:func:`exhaustive` as a policy: the best binary allocation of every decision slot.

    Args:
        budget: enforce :math:`\\sum_i p_i \\le P_{\\max}` in every slot (default: ``True``).
        neighbours_only: count only above-threshold interferers in the rate, as in
            :meth:`~pyg_aggnn.data.WirelessEpisode.interference_gain` (default: ``False``).
        update_every, when_active: see :class:`Baseline`.
    """

    def __init__(
        self,
        budget: bool = True,
        neighbours_only: bool = False,
        update_every: int = 1,
        when_active: bool = False,
    ):
        super().__init__(update_every=update_every, when_active=when_active)
        for name, value in (("budget", budget), ("neighbours_only", neighbours_only)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be a bool, got {value!r}")
        self.budget = budget
        self.neighbours_only = neighbours_only

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        vector, num_graphs = batch_vector(batch)
        gain = batch.interference_gain(self.neighbours_only)
        return self.search(
            batch.direct_gain[:, slots],
            batch.edge_index,
            gain[:, slots],
            batch.max_power,
            batch.noise_power,
            batch.link_weight,
            batch.p_max_total if self.budget else None,
            vector,
            num_graphs,
        )

    def search(self, *channel) -> Tensor:
        """The on/off search of the decision slots' channels (the arguments of
        :func:`exhaustive`); subclasses search otherwise.
        """
        return exhaustive(*channel)

    def extra_repr(self) -> str:
        return (
            f"budget={self.budget}, neighbours_only={self.neighbours_only}, {super().extra_repr()}"
        )
