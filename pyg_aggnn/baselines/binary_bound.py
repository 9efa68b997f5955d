r"""The binary bound: a centralized on/off allocation under the power budget, per slot."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines._common import (
    check_channel,
    graph_sizes,
    per_graph,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines.exhaustive import MAX_LINKS, Exhaustive, exhaustive
from pyg_aggnn.wireless import physics

__all__ = ["binary_bound", "BinaryBound"]

# Rates of at most this many (edge, slot, candidate) entries are held at once.
_CHUNK_ENTRIES = 2**23
# Candidates with an upper bound of their value are evaluated this many at a time.
_PRUNED_CHUNK = 4


class _Search:
    """Greedy and local search over on/off patterns ``on: [N, s] bool`` of many
    networks and slots at once; every value comes from :mod:`pyg_aggnn.wireless.physics`.
    """

    def __init__(self, direct, edge_index, gains, p0, noise, alpha, budget, batch, num_graphs):
        self.direct, self.edge_index, self.gains = direct, edge_index, gains
        self.p0, self.noise, self.alpha = p0, noise, alpha
        self.budget, self.batch, self.num_graphs = budget, batch, num_graphs
        sizes = graph_sizes(batch, num_graphs)
        self.sizes = sizes
        self.local = (
            torch.arange(batch.numel(), device=batch.device) - (sizes.cumsum(0) - sizes)[batch]
        )
        per_candidate = max(edge_index.size(1), batch.numel(), 1) * direct.size(1)
        self.chunk = max(1, _CHUNK_ENTRIES // per_candidate)
        # Moves must gain more than rounding: an exact tie never cycles the search.
        self.eps = 16 * torch.finfo(direct.dtype).eps
        # [B, s, m] weighted rate of every link at full power without interference
        alone = physics._rate(
            p0[:, None].expand_as(direct), direct, edge_index[:, :0], gains[:0], noise
        )
        self.free = self.dense(alone * alpha[:, None])

    def value(self, on: Tensor) -> tuple[Tensor, Tensor]:
        """Weighted sum rate ``[B, s, C]`` and feasibility of the patterns ``on: [N, s, C]``."""
        power = self.p0[:, None, None] * on
        rates = physics._rate(power, self.direct, self.edge_index, self.gains, self.noise)
        value = physics._sum_rate(rates, self.batch, self.alpha, self.num_graphs)
        if self.budget is None:
            return value, torch.ones_like(value, dtype=torch.bool)
        slack = physics._power_budget_slack(power, self.budget, self.batch, self.num_graphs)
        return value, slack >= 0

    def best_move(
        self,
        on: Tensor,
        first: Tensor,
        second: Tensor,
        current: Tensor,
        bound: Tensor | None = None,
        keep: bool = False,
    ):
        """The best feasible move of every network and slot among the candidates that
        toggle local links ``first`` and ``second`` (``[B, s, C] long``, ``-1``: none).

        With ``bound`` (``[B, s, C]``, non-increasing in ``C``: upper bounds of the
        candidates' values), the candidates are evaluated in chunks only until no
        remaining one can beat the best found or the current value.

        Returns ``(value [B, s], first [B, s], second [B, s])`` of the best candidate
        (ties: the first), with ``value = -inf`` where none is feasible, and with
        ``keep`` the value of every candidate, ``[B, s, C]``, fourth.
        """
        best = torch.full_like(current, -math.inf)
        best_first = torch.full_like(first[..., 0], -1)
        best_second = torch.full_like(best_first, -1)
        local = self.local[:, None, None]
        chunk = self.chunk if bound is None else min(self.chunk, _PRUNED_CHUNK)
        kept = []
        for start in range(0, first.size(2), chunk):
            a = first[:, :, start : start + chunk][self.batch]  # [N, s, c]
            b = second[:, :, start : start + chunk][self.batch]
            value, feasible = self.value(on[..., None] ^ (local == a) ^ (local == b))
            value = torch.where(feasible, value, -math.inf)
            kept += [value] if keep else []
            top, index = value.max(dim=2)  # [B, s]
            better = top > best
            best = torch.where(better, top, best)
            pick = index[..., None] + start
            best_first = torch.where(better, first.gather(2, pick)[..., 0], best_first)
            best_second = torch.where(better, second.gather(2, pick)[..., 0], best_second)
            following = start + chunk
            if bound is not None and following < first.size(2):
                # nothing left can beat the best found, nor the current value
                if bool((torch.maximum(best, current) >= bound[:, :, following]).all()):
                    break
        if keep:
            return best, best_first, best_second, torch.cat(kept, dim=2)
        return best, best_first, best_second

    def apply(self, on, current, value, first, second) -> tuple[Tensor, Tensor, Tensor]:
        """Take the moves that gain more than rounding; ``(on, current, improved [B, s])``."""
        improved = value > current + self.eps * current.abs().clamp(min=1)
        toggle = (self.local[:, None] == first[self.batch]) | (
            self.local[:, None] == second[self.batch]
        )
        on = on ^ (toggle & improved[self.batch])
        return on, torch.where(improved, value, current), improved

    def dense(self, value: Tensor) -> Tensor:
        """Per-link ``value: [N, s]`` in the padded layout ``[B, s, m]`` (pad: ``-inf``)."""
        shape = (self.num_graphs, int(self.sizes.max()), value.size(1))
        out = torch.full(shape, -math.inf, dtype=self.direct.dtype, device=value.device)
        out[self.batch, self.local] = value.to(out.dtype)
        return out.movedim(1, 2)

    def slack(self, on: Tensor) -> Tensor:
        """Unused budget of every network and slot plus a rounding margin, ``[B, s, 1]``
        (``inf`` without a budget): a screen only, kept candidates are checked exactly.
        """
        if self.budget is None:
            return torch.full_like(self.free[..., :1], math.inf)
        power = self.p0[:, None] * on
        slack = physics._power_budget_slack(power, self.budget, self.batch, self.num_graphs)
        return (slack + self.eps * self.budget.clamp(min=1)[:, None])[..., None]

    @staticmethod
    def links(state: Tensor, want: float) -> Tensor:
        """Local indices of the links with ``state == want`` (``[B, s, m]``), in local
        order, padded with ``-1``: ``[B, s, n]``, ``n`` the largest count.
        """
        order = torch.sort((state != want).long(), dim=2, stable=True).indices
        count = (state == want).sum(dim=2, keepdim=True)  # [B, s, 1]
        rank = torch.arange(state.size(2), device=state.device)
        return torch.where(rank < count, order, -1)[..., : int(count.max())]

    @staticmethod
    def ranked(first: Tensor, second: Tensor, bound: Tensor):
        """The candidates sorted by decreasing ``bound``, those at ``-inf`` dropped."""
        bound, order = torch.sort(bound, dim=2, descending=True, stable=True)
        count = int((bound > -math.inf).sum(dim=2).max())
        first, second = first.gather(2, order), second.gather(2, order)
        first = torch.where(bound > -math.inf, first, -1)
        second = torch.where(bound > -math.inf, second, -1)
        return first[..., :count], second[..., :count], bound[..., :count]

    def flips(self, on: Tensor) -> tuple[Tensor, Tensor]:
        """Candidates toggling one link each, ``[B, s, m]``."""
        state = self.dense(on)
        first = torch.arange(state.size(2), device=on.device).expand_as(state)
        first = torch.where(state > -math.inf, first, -1)
        return first, torch.full_like(first, -1)

    def additions(self, on: Tensor, current: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates switching one off link on that fits the budget, ``[B, s, n]``,
        sorted by an upper bound of their value, returned third: the current value plus
        the link's own weighted rate at full power against the current interference
        (switching a link on only lowers the other links' rates).
        """
        gains = self.gains * on[self.edge_index[0]]  # [E, s]: only links that are on interfere
        power = self.p0[:, None].expand_as(self.direct)
        own = physics._rate(power, self.direct, self.edge_index, gains, self.noise)  # [N, s]
        first, second = self.flips(on)
        allowed = (self.dense(on) == 0) & (self.dense(power) <= self.slack(on))  # [B, s, m]
        bound = torch.where(
            allowed, current[..., None] + self.dense(own * self.alpha[:, None]), -math.inf
        )
        return self.ranked(first, second, bound)

    def swaps(self, on: Tensor, removal: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates switching one link off and another on that fit the budget,
        ``[B, s, n]``, sorted by an upper bound of their value, returned third: the value
        with the first link off (``removal[b, s, a]``, ``[B, s, m]``) plus the second
        link's weighted rate without interference.
        """
        state = self.dense(on)  # [B, s, m]
        on_list, off_list = self.links(state, 1.0), self.links(state, 0.0)  # [B, s, n]
        shape = (*state.shape[:2], on_list.size(2), off_list.size(2))
        first = on_list[..., :, None].expand(shape).flatten(2)  # [B, s, n_on * n_off]
        second = off_list[..., None, :].expand(shape).flatten(2)
        p0 = self.dense(self.p0[:, None].expand_as(on))  # [B, s, m]
        change = p0.gather(2, second.clamp(min=0)) - p0.gather(2, first.clamp(min=0))
        bound = removal.gather(2, first.clamp(min=0)) + self.free.gather(2, second.clamp(min=0))
        allowed = (first >= 0) & (second >= 0) & (change <= self.slack(on))
        return self.ranked(first, second, torch.where(allowed, bound, -math.inf))

    def run(self, max_passes: int) -> Tensor:
        """Greedy from all-off, then at most ``max_passes`` rounds of the best flip or swap
        of every network and slot, until no move gains.
        """
        s = self.direct.size(1)
        on = torch.zeros(self.batch.numel(), s, dtype=torch.bool, device=self.batch.device)
        current = self.value(on[..., None])[0][..., 0]  # [B, s]
        for _ in range(int(self.sizes.max())):  # greedy: add the best link that fits
            first, second, bound = self.additions(on, current)
            if not first.size(2):
                break
            value, a, b = self.best_move(on, first, second, current, bound)
            on, current, improved = self.apply(on, current, value, a, b)
            if not bool(improved.any()):
                break
        for _ in range(max_passes):  # local search: the best removal, addition or swap
            first = self.links(self.dense(on), 1.0)  # [B, s, n_on]
            value, a, b, removed = self.best_move(
                on, first, torch.full_like(first, -1), current, keep=True
            )
            # [B, s, m]: the value with link a off (pads go to a spare last column)
            removal = F.pad(torch.full_like(self.free, -math.inf), (0, 1), value=-math.inf)
            index = torch.where(first >= 0, first, removal.size(2) - 1)
            removal = removal.scatter_(2, index, removed)[..., :-1]
            for moves in (self.additions(on, current), self.swaps(on, removal)):
                if moves[0].size(2):
                    other, c, d = self.best_move(on, *moves[:2], current, moves[2])
                    take = other > value  # ties: the earlier kind of move
                    value = torch.where(take, other, value)
                    a, b = torch.where(take, c, a), torch.where(take, d, b)
            on, current, improved = self.apply(on, current, value, a, b)
            if not bool(improved.any()):
                break
        return on


def binary_bound(
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    max_power: Tensor,
    noise_power: float | Tensor = 1.0,
    link_weight: Tensor | None = None,
    p_max_total: float | Tensor | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    exact_links: int = MAX_LINKS,
    max_passes: int = 50,
) -> Tensor:
    r"""A strong on/off allocation under the power budget, exact on small networks.

    .. math::
        \max_{p \in \{0, p_{0,1}\} \times \dots \times \{0, p_{0,m}\}}
        \sum_i \alpha_i \log\big(1 + \mathrm{SINR}_i(p)\big)
        \quad \text{s.t.} \quad \sum_i p_i \le P_{\max}

    in every network and slot (the constraint only if ``p_max_total`` is given).
    Networks of at most ``exact_links`` links are solved exactly by enumeration
    (:func:`~pyg_aggnn.baselines.exhaustive`); larger ones by a greedy start (from
    all links off, add the link that most increases the weighted sum rate while the
    budget allows, until none does) followed by a local search: in every round each
    network and slot takes its best move among all single flips (one link on or off)
    and all swaps (one link off, another on) that keep the budget, until no move gains
    more than rounding or after ``max_passes`` rounds. Candidates are evaluated in the
    order of upper bounds on their value (switching a link on lowers the other links'
    rates and adds at most its own: at full power against the current interference for
    an addition, without interference for a swap) and skipped once no bound beats the
    best value found, so the search takes the moves of a full evaluation (up to exact
    ties) at a fraction of its cost. The result is a lower bound on
    the binary optimum (equal to it where exact) and an upper reference for the binary
    policies; it never violates the budget. Every rate comes from
    :func:`pyg_aggnn.wireless.physics.rate`. Networks are independent: the result of
    one does not depend on the others in the batch.

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
        exact_links: enumerate networks of at most this many links, ``0`` to
            ``16`` (default: ``16``).
        max_passes: most local-search rounds, ``0`` for the greedy start alone
            (default: ``50``).

    Returns:
        ``[N, *S]`` powers in :math:`\{0, p_{0,i}\}`.
    """
    edge_index, edge_gain, shape = check_channel(direct_gain, edge_index, edge_gain)
    exact_links = check_positive_int("exact_links", exact_links, minimum=0)
    if exact_links > MAX_LINKS:
        raise ValueError(f"exact_links must be in [0, {MAX_LINKS}], got {exact_links}")
    max_passes = check_positive_int("max_passes", max_passes, minimum=0)
    num_nodes, num_edges = direct_gain.size(0), edge_index.size(1)
    like = direct_gain
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, like.device)
    p0 = per_node("max_power", max_power, num_nodes, like, positive=True)
    noise = per_node("noise_power", noise_power, num_nodes, like, positive=True)
    alpha = per_node("link_weight", 1.0 if link_weight is None else link_weight, num_nodes, like)
    budget = (
        None if p_max_total is None else per_graph("p_max_total", p_max_total, num_graphs, like)
    )
    s = math.prod(shape)
    direct, gains = direct_gain.reshape(num_nodes, s), edge_gain.reshape(num_edges, s)
    power = torch.zeros_like(direct)
    sizes = graph_sizes(batch, num_graphs)
    for exact in (True, False):
        graphs = (sizes <= exact_links) == exact
        if not bool(graphs.any()):
            continue
        nodes = graphs[batch]
        edges = nodes[edge_index[1]] & nodes[edge_index[0]]
        index = torch.cumsum(nodes, 0) - 1  # new node numbers
        sub_batch = (torch.cumsum(graphs, 0) - 1)[batch[nodes]]
        args = (
            direct[nodes],
            index[edge_index[:, edges]],
            gains[edges],
            p0[nodes],
            noise[nodes],
            alpha[nodes],
            None if budget is None else budget[graphs],
            sub_batch,
            int(graphs.sum()),
        )
        if exact:
            power[nodes] = exhaustive(*args)
        else:
            *channel, sub_budget, sub_batch, count = args
            if sub_budget is not None:  # the exhaustive search's allowance for rounding
                sub_budget = sub_budget + 4 * MAX_LINKS * torch.finfo(like.dtype).eps * (
                    sub_budget.clamp(min=1)
                )
            on = _Search(*channel, sub_budget, sub_batch, count).run(max_passes)
            power[nodes] = p0[nodes, None] * on
    return power.reshape(num_nodes, *shape)


class BinaryBound(Exhaustive):
    """:func:`binary_bound` as a policy: a strong on/off allocation of every decision
    slot under the budget, centralized (it sees every channel of the network).

    Args:
        budget: enforce :math:`\\sum_i p_i \\le P_{\\max}` in every slot (default: ``True``).
        neighbours_only: count only above-threshold interferers in the rate, as in
            :meth:`~pyg_aggnn.data.WirelessEpisode.interference_gain` (default: ``False``).
        exact_links: enumerate networks of at most this many links (default: ``16``).
        max_passes: most local-search rounds (default: ``50``).
        update_every, when_active: see :class:`Baseline`.
    """

    def __init__(
        self,
        budget: bool = True,
        neighbours_only: bool = False,
        exact_links: int = MAX_LINKS,
        max_passes: int = 50,
        update_every: int = 1,
        when_active: bool = False,
    ):
        super().__init__(budget, neighbours_only, update_every, when_active)
        self.exact_links = check_positive_int("exact_links", exact_links, minimum=0)
        if self.exact_links > MAX_LINKS:
            raise ValueError(f"exact_links must be in [0, {MAX_LINKS}], got {exact_links}")
        self.max_passes = check_positive_int("max_passes", max_passes, minimum=0)

    def search(self, *channel) -> Tensor:
        return binary_bound(*channel, exact_links=self.exact_links, max_passes=self.max_passes)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, exact_links={self.exact_links}, max_passes={self.max_passes}"
        )
