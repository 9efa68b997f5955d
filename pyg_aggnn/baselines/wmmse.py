"""Weighted minimum mean-square error (WMMSE) power allocation, batched and sparse."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import (
    check_choice,
    check_non_negative,
    check_positive,
    check_positive_int,
)
from pyg_aggnn.baselines._common import (
    check_channel,
    check_gain,
    draw_uniform,
    graph_sizes,
    per_graph,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines._operators import build_operator
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.data.batching import batch_vector

__all__ = ["wmmse", "WMMSE"]

_INITS = ("full", "random")
_BUDGETS = ("none", "cap", "scale", "price")
_PATHS = ("auto", "dense", "sparse")
# Above this many edge-slot entries, WMMSE.decide runs the slots in several calls.
_CHUNK_ENTRIES = 2**22


def _squared(x: Tensor) -> Tensor:
    """``x ** 2`` as a product, bit for bit ``x.square()``, which runs through ``pow`` and
    is several times slower on CPUs for the millions of gains of a batch.
    """
    return torch.mul(x, x)


def _v_step(num, den, v_max, total, op, steps: int, price: float | None = None) -> Tensor:
    """Exact minimiser of the v-subproblem: with a fixed sum-power ``price``, or with the
    price found by bisection so that every network meets ``total``.
    """

    def at(price: Tensor | None) -> Tensor:
        d = den if price is None else den + price
        # d = 0 only where num = 0 too (a silent or zero-weight link): switch it off.
        return torch.div(num, d).nan_to_num_(nan=0.0).minimum(v_max)

    v = at(price)
    if total is None:
        return v
    over = op.graph_sum(v.square()) > total  # [graph layout]
    if not bool(over.any()):
        return v
    # v_i(mu) <= num_i / mu, so sum_i v_i(mu)^2 <= P at mu = sqrt(sum_i num_i^2 / P).
    high = torch.where(over, (op.graph_sum(num.square()) / total).sqrt(), 0)
    low = torch.zeros_like(high)
    for _ in range(steps):
        mid = 0.5 * (low + high)
        too_much = op.graph_sum(at(op.expand(mid)).square()) > total
        low, high = torch.where(too_much, mid, low), torch.where(too_much, high, mid)
    return torch.where(op.expand(over), at(op.expand(high)), v)


def _iterate(op, v, g, alpha_g, noise, v_max, total, num_iters, tol, steps, price) -> Tensor:
    """Run the WMMSE iterations from amplitudes ``v`` (operator layout) and return ``v``."""
    done = None if tol is None else torch.zeros_like(op.graph_max(v), dtype=torch.bool)
    for _ in range(num_iters):
        # With q_i = sigma_i^2 + sum_{j != i} h_ij^2 v_j^2 and r_i = q_i + h_ii^2 v_i^2:
        # u_i = h_ii v_i / r_i and w_i = r_i / q_i, hence alpha_i w_i u_i h_ii =
        # alpha_i h_ii^2 v_i / q_i and alpha_i w_i u_i^2 = (alpha_i w_i u_i h_ii) v_i / r_i.
        # In-place steps: on small batched networks, allocations cost as much as the maths.
        v2 = _squared(v)
        quiet = op.cross(v2).add_(noise)
        received = torch.addcmul(quiet, g, v2)
        num = torch.mul(alpha_g, v).div_(quiet)  # alpha_i w_i u_i h_ii
        c = torch.mul(num, v).div_(received)  # alpha_i w_i u_i^2
        den = op.cross_t(c).addcmul_(g, c)  # sum_j alpha_j w_j u_j^2 h_ji^2
        v_new = _v_step(num, den, v_max, total, op, steps, price)
        if done is not None:
            change = op.graph_max((_squared(v_new) - v2).abs())
            v_new = torch.where(op.expand(done), v, v_new)
            done = done | (change <= tol)
            if bool(done.all()):
                return v_new
        v = v_new
    return v


def wmmse(
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    max_power: float | Tensor = 1.0,
    noise_power: float | Tensor = 1.0,
    link_weight: Tensor | None = None,
    *,
    num_iters: int = 100,
    tol: float | None = None,
    init: str | Tensor = "full",
    generator: torch.Generator | None = None,
    budget: str = "none",
    p_max_total: float | Tensor | None = None,
    price: float | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    path: str = "auto",
) -> Tensor:
    r"""Scalar WMMSE power allocation (Shi et al., 2011) of many networks at once.

    Block-coordinate descent on the weighted MMSE problem, whose stationary points are
    those of the weighted sum rate :math:`\sum_i \alpha_i \log(1 + \mathrm{SINR}_i)`.
    With amplitudes :math:`h_{ij}` (Tx :math:`j` -> Rx of link :math:`i`) and
    :math:`v_i = \sqrt{p_i}`, one iteration is

    .. math::
        u_i &= \frac{h_{ii} v_i}{\sigma_i^2 + \sum_j h_{ij}^2 v_j^2}, \qquad
        w_i = \frac{1}{1 - u_i h_{ii} v_i}, \\
        v_i &= \Big[\frac{\alpha_i w_i u_i h_{ii}}
               {\sum_j \alpha_j w_j u_j^2 h_{ji}^2 + \mu}\Big]_0^{\sqrt{\bar p_i}},

    where the sums run over the pairs present in ``edge_index`` (plus the direct link)
    and :math:`\bar p_i` is the per-link cap. Every step minimises the WMMSE cost
    exactly, so the weighted sum rate on the same pairs never decreases. The total
    power budget :math:`P_{\max}` of each network is handled by ``budget``:

    * ``"none"``: :math:`\bar p_i = p_{0,i}`, :math:`\mu = 0`; the budget is ignored.
    * ``"cap"``: a per-link share, :math:`\bar p_i = \min(p_{0,i}, P_{\max} / m)`,
      :math:`\mu = 0`; local, so the distributed algorithm stays distributed.
    * ``"scale"``: :math:`\bar p_i = p_{0,i}` and a common price :math:`\mu \ge 0` per
      network, zero if :math:`\sum_i v_i(0)^2 \le P_{\max}`, else found by bisection so
      that :math:`\sum_i v_i(\mu)^2 = P_{\max}` (the exact v-step under the sum-power
      constraint; the initial point is scaled by a common factor into the budget).
      Needs :math:`\sum_i v_i^2` of the whole network in every iteration: a global
      step, even in the distributed algorithm.
    * ``"price"``: :math:`\bar p_i = p_{0,i}` and a fixed price :math:`\mu =`
      ``price`` :math:`\ge 0`, the same for every network, slot and iteration (the
      Lagrange multiplier of the sum-power constraint, set offline, e.g. by
      :func:`~pyg_aggnn.baselines.calibrate_price` so that the budget is met on
      average); local, so the distributed algorithm stays distributed. Every step
      then minimises the WMMSE cost plus :math:`\mu \sum_i v_i^2`, so
      :math:`\sum_i \alpha_i \log(1 + \mathrm{SINR}_i) - \mu \sum_i p_i` never
      decreases; ``price=0`` is ``"none"``.

    In a network where the v-step's denominator vanishes (``link_weight`` zero), the
    link is switched off.

    Args:
        direct_gain: ``[N, *S] float`` direct amplitudes :math:`h_{ii}`; ``*S`` are
            independent problems (slots, samples).
        edge_index: ``[2, E] long`` pairs ``j -> i`` (``[0]`` interferer, ``[1]`` victim);
            self loops are ignored (the direct link comes from ``direct_gain``).
        edge_gain: ``[E, *S]`` (or ``[E]``) amplitudes :math:`h_{ij}`; a zero gain is an
            absent pair.
        max_power: per-link maximum power :math:`p_0`, float or ``[N]`` (default: ``1.0``).
        noise_power: receiver noise power :math:`\sigma^2 > 0`, float or ``[N]``
            (default: ``1.0``).
        link_weight: ``[N]`` priority weights :math:`\alpha_i \ge 0` (default: ones).
        num_iters: number of iterations, or the maximum with ``tol`` (default: ``100``).
        tol: stop a network (and slot) once :math:`\max_i |p_i^{(k+1)} - p_i^{(k)}| \le`
            ``tol``; its powers are then frozen, so the result does not depend on what
            else is in the batch (default: ``None``, run ``num_iters``).
        init: initial point: ``"full"`` (:math:`\bar p_i`), ``"random"`` (uniform in
            :math:`[0, \bar p_i]`, drawn from ``generator``) or a ``[N]`` / ``[N, *S]``
            tensor of non-negative powers (default: ``"full"``).
        generator: random stream of ``init="random"`` (default: ``None``, torch's).
        budget: ``"none"``, ``"cap"``, ``"scale"`` or ``"price"`` (default: ``"none"``).
        p_max_total: budget :math:`P_{\max}`, float or ``[B]``; needed with ``"cap"``
            and ``"scale"``.
        price: the fixed price :math:`\mu \ge 0` of ``budget="price"``, needed there
            and only there (default: ``None``).
        batch: ``[N] long`` network of every link (default: ``None``, one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).
        path: ``"dense"`` batched matrices (equal-size networks), ``"sparse"`` CSR on the
            edge list, or ``"auto"`` (dense for small dense networks) (default: ``"auto"``).

    Returns:
        ``[N, *S]`` powers :math:`p_i = v_i^2`, in the dtype and on the device of
        ``direct_gain``.
    """
    edge_index, edge_gain, shape = check_channel(direct_gain, edge_index, edge_gain)
    num_nodes, num_edges = direct_gain.size(0), edge_index.size(1)
    s = math.prod(shape)
    num_iters = check_positive_int("num_iters", num_iters)
    tol = None if tol is None else check_positive("tol", tol)
    budget = check_choice("budget", budget, _BUDGETS)
    path = check_choice("path", path, _PATHS)
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, direct_gain.device)
    like = direct_gain
    p0 = per_node("max_power", max_power, num_nodes, like, positive=True)
    noise = per_node("noise_power", noise_power, num_nodes, like, positive=True)
    alpha = per_node("link_weight", 1.0 if link_weight is None else link_weight, num_nodes, like)
    if budget == "price":
        if price is None:
            raise ValueError("price is required with budget='price', got None")
        price = check_non_negative("price", price)
    elif price is not None:
        raise ValueError(f"price is only used with budget='price', got price={price!r}")
    cap, total = p0, None
    if budget in ("cap", "scale"):
        if p_max_total is None:
            raise ValueError(f"p_max_total is required with budget={budget!r}, got None")
        p_max = per_graph("p_max_total", p_max_total, num_graphs, like)
        if budget == "cap":
            share = p_max / graph_sizes(batch, num_graphs).clamp(min=1)
            cap = torch.minimum(p0, share[batch])

    if isinstance(init, Tensor):
        check_gain("init", init, num_nodes)
        if tuple(init.shape[1:]) not in ((), shape):
            raise ValueError(f"init must have shape [N] or [N, *S], got {list(init.shape)}")
        power = init.to(like).reshape(num_nodes, -1).expand(num_nodes, s)
    else:
        check_choice("init", init, _INITS)
        power = cap[:, None].expand(num_nodes, s)
        if init == "random":
            power = power * draw_uniform((num_nodes, s), generator or torch.default_generator, like)

    op = build_operator(
        edge_index, _squared(edge_gain.reshape(num_edges, s)), batch, num_graphs, path
    )
    nodes = op.to_layout
    direct_sq = _squared(direct_gain.reshape(num_nodes, s))
    g = nodes(direct_sq)
    alpha_g = nodes(alpha[:, None] * direct_sq)
    noise = nodes(noise[:, None].expand(num_nodes, s))
    v_max = nodes(cap.sqrt()[:, None].expand(num_nodes, s))
    v = nodes(power.sqrt())
    if budget == "scale":
        total = op.graph_layout(p_max)
        scale = (total / op.graph_sum(v.square())).sqrt().clamp(max=1.0)
        v = v * op.expand(torch.nan_to_num(scale, nan=1.0))
    steps = int(-math.log2(torch.finfo(like.dtype).eps)) + 3
    out = []
    for part, block in op.blocks():  # independent problems, iterated one block at a time
        out.append(
            _iterate(
                block,
                v[part],
                g[part],
                alpha_g[part],
                noise[part],
                v_max[part],
                None if total is None else total[part],
                num_iters,
                tol,
                steps,
                price,
            )
        )
    v = out[0] if len(out) == 1 else torch.cat(out)
    return op.from_layout(_squared(v)).reshape(num_nodes, *shape)


class WMMSE(Baseline):
    r"""WMMSE as a policy: :func:`wmmse` on every decision slot of an episode.

    * ``mode="centralized"``: every candidate pair of the episode (``edge_gain``, the
      physically complete interference), ``num_iters=100`` by default, optionally to
      convergence with ``tol``.
    * ``mode="distributed"``: only the slot's graph, i.e. the pairs with a non-zero
      ``edge_weight`` (active interferers above the threshold :math:`\eta_0`), and
      exactly ``num_iters`` iterations, each one neighbour exchange; match it to the
      Agg-GNN's ``K`` (default: ``5``, the papers' asynchronous setting).

    Every decision starts from ``init`` and uses only its slot's channel. ``budget``
    selects how the total budget ``batch.p_max_total`` is met (see :func:`wmmse`):

    * ``"cap"`` (default): every link gets the share :math:`P_{\max} / m`; local.
    * ``"scale"``: the global price, met in every slot and iteration by a bisection on
      the network's total power; centralized even with ``mode="distributed"``.
    * ``"price"``: a fixed price :math:`\mu` = ``price``, so every exchange is local;
      a scalar set offline like a learned weight, e.g. by
      :func:`~pyg_aggnn.baselines.calibrate_price` on training episodes so that the
      budget is met on average. With ``price=None`` the policy must be calibrated
      before use.
    * ``"none"``: the budget is ignored.

    Args:
        mode: ``"distributed"`` or ``"centralized"`` (default: ``"distributed"``).
        num_iters: iterations per decision (default: ``None``: 100 centralized, 5
            distributed).
        tol: centralized only, see :func:`wmmse` (default: ``None``).
        budget: ``"cap"``, ``"scale"``, ``"price"`` or ``"none"`` (default: ``"cap"``).
        price: the fixed price :math:`\mu \ge 0` of ``budget="price"`` (default:
            ``None``, to be calibrated).
        init: ``"full"`` or ``"random"`` (default: ``"full"``).
        path: ``"auto"``, ``"dense"`` or ``"sparse"`` (default: ``"auto"``).
        update_every, when_active: see :class:`Baseline`.
    """

    def __init__(
        self,
        mode: str = "distributed",
        num_iters: int | None = None,
        tol: float | None = None,
        budget: str = "cap",
        init: str = "full",
        path: str = "auto",
        update_every: int = 1,
        when_active: bool = False,
        price: float | None = None,
    ):
        super().__init__(update_every=update_every, when_active=when_active)
        self.mode = check_choice("mode", mode, ("distributed", "centralized"))
        default = 100 if mode == "centralized" else 5
        self.num_iters = check_positive_int(
            "num_iters", default if num_iters is None else num_iters
        )
        if tol is not None and mode == "distributed":
            raise ValueError(
                f"tol must be None with mode='distributed' (exactly num_iters exchanges), got {tol!r}"
            )
        self.tol = None if tol is None else check_positive("tol", tol)
        self.budget = check_choice("budget", budget, _BUDGETS)
        if price is not None and self.budget != "price":
            raise ValueError(f"price is only used with budget='price', got price={price!r}")
        self.price = None if price is None else check_non_negative("price", price)
        self.init = check_choice("init", init, _INITS)
        self.path = check_choice("path", path, _PATHS)

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        if self.budget == "price" and self.price is None:
            raise ValueError(
                "price is None with budget='price': give a price or calibrate it first "
                "(pyg_aggnn.baselines.calibrate_price)"
            )
        vector, num_graphs = batch_vector(batch)
        gain = batch.edge_gain if self.mode == "centralized" else batch.edge_weight
        chunk = max(1, _CHUNK_ENTRIES // max(gain.size(0), 1))
        out = []
        for part in slots.split(chunk):
            out.append(
                wmmse(
                    batch.direct_gain[:, part],
                    batch.edge_index,
                    gain[:, part],
                    batch.max_power,
                    batch.noise_power,
                    batch.link_weight,
                    num_iters=self.num_iters,
                    tol=self.tol,
                    init=self.init,
                    generator=generator,
                    budget=self.budget,
                    p_max_total=batch.p_max_total,
                    price=self.price,
                    batch=vector,
                    num_graphs=num_graphs,
                    path=self.path,
                )
            )
        return torch.cat(out, dim=1)

    def extra_repr(self) -> str:
        price = f"price={self.price}, " if self.budget == "price" else ""
        return (
            f"mode={self.mode!r}, num_iters={self.num_iters}, tol={self.tol}, "
            f"budget={self.budget!r}, {price}init={self.init!r}, {super().extra_repr()}"
        )
