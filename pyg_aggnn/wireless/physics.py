"""The physics of the interference channel, written once.

Every rate, utility and constraint slack in the package (losses, metrics, baselines'
evaluation, tests) comes from this module. All functions work on the sparse edge list
of a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`, on CPU or CUDA, and are
differentiable in ``power``.

Conventions:

* ``edge_index: [2, E] long``: edge ``j -> i`` (``edge_index[0] = j`` the interfering
  transmitter, ``edge_index[1] = i`` the victim link). Self loops ``i -> i`` (the direct
  link) may be present; they never count as interference.
* ``edge_gain: [E, *S] float``: channel *amplitude* ``gain[i, j] = |h_ij|`` (linear,
  not squared); the received power is ``gain**2 * power``.
* ``power: [N, *S] float``: transmit power of every link (linear, same unit as
  ``noise_power``). Trailing dimensions ``*S`` (slots, samples) broadcast.
* ``direct_gain: [N, *S] float``: ``gain[i, i]``, amplitude.
* ``noise_power: float or [N] float``: receiver noise power, linear, ``> 0`` (with
  zero noise a silent link has rate ``0 / 0``).
* Rates are in nats per channel use.

Every public function checks its arguments (shapes and dtypes in Python, values with
one reduction per tensor whose results reach the host together, see
:mod:`pyg_aggnn._validation`) and raises ``ValueError`` naming the argument: powers must
be finite and ``>= 0``; amplitudes finite, ``>= 0`` and at most
:func:`~pyg_aggnn._validation.amplitude_limit` of their dtype (``2.1e9`` in float32), so
that squared gains and their products cannot overflow; edge indices in ``[0, N)``. The
package's own hot paths (:meth:`~pyg_aggnn.data.WirelessEpisode.rates`, the exhaustive
search) validate once and call the unchecked ``_interference_power``, ``_sinr``,
``_rate``, ``_sum_rate`` and ``_power_budget_slack``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_aggnn._validation import (
    amplitude_limit,
    check_float_tensor,
    check_non_negative,
    check_positive_int,
    check_values,
)
from pyg_aggnn.wireless import _physics_checks as _checks

__all__ = [
    "interference_power",
    "sinr",
    "rate",
    "sum_rate",
    "proportional_fairness",
    "min_rate_slack",
    "power_budget_slack",
    "dense_to_edges",
]


def _align(value: Tensor, like: Tensor) -> Tensor:
    """Append singleton dimensions so that ``value`` broadcasts against ``like``."""
    extra = like.dim() - value.dim()
    return value.reshape(*value.shape, *([1] * extra)) if extra > 0 else value


def _interference_power(
    power: Tensor, edge_index: Tensor, edge_gain: Tensor, num_nodes: int
) -> Tensor:
    src, dst = edge_index
    cross = (src != dst).to(power.dtype)  # [E]
    gain_sq = edge_gain.square() * _align(cross, edge_gain)  # [E, *S]
    received = _align(gain_sq, power) * power[src]  # [E, *S]
    return scatter(received, dst, dim=0, dim_size=num_nodes, reduce="sum")


def interference_power(
    power: Tensor, edge_index: Tensor, edge_gain: Tensor, num_nodes: int | None = None
) -> Tensor:
    r"""Interference received by each link, :math:`\sum_{j \ne i} g_{ij}^2 p_j`.

    Args:
        power: ``[N, *S]`` transmit powers, finite and ``>= 0``.
        edge_index: ``[2, E]`` edges ``j -> i``; self loops are skipped.
        edge_gain: ``[E, *S]`` (or ``[E]``) amplitude gains of the edges.
        num_nodes: number of links ``N`` (default: ``power.size(0)``, the only value
            allowed).

    Returns:
        ``[N, *S]`` interference power at every victim link.
    """
    check_float_tensor("power", power, "[N, *S]")
    if power.dim() < 1:
        raise ValueError(f"power must have shape [N, *S], got a scalar {power.item()!r}")
    if num_nodes is not None and check_positive_int("num_nodes", num_nodes, 0) != power.size(0):
        raise ValueError(
            f"num_nodes must equal power.size(0) = {power.size(0)} (one power per link), "
            f"got {num_nodes!r}"
        )
    num_nodes = power.size(0)
    edge_index = _checks.check_index(edge_index, num_nodes)
    check_float_tensor("edge_gain", edge_gain, "[E, *S]")
    _checks.check_leading("edge_gain", edge_gain, edge_index.size(1), "E", power)
    _checks.check_broadcast(power, edge_gain=edge_gain)
    check_values(
        ("power", power, 0.0),
        *_checks.amplitude_checks(power, edge_gain=edge_gain),
        ("edge_index", edge_index, 0, num_nodes - 1),
    )
    return _interference_power(power, edge_index, edge_gain, num_nodes)


def _sinr(
    power: Tensor,
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    noise_power: float | Tensor,
) -> Tensor:
    interference = _interference_power(power, edge_index, edge_gain, power.size(0))
    if isinstance(noise_power, Tensor):
        noise_power = _align(noise_power, power)
    signal = _align(direct_gain, power).square() * power
    return signal / (noise_power + interference)


def sinr(
    power: Tensor,
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    noise_power: float | Tensor = 1.0,
) -> Tensor:
    r"""Signal-to-interference-plus-noise ratio of every link.

    .. math::
        \mathrm{SINR}_i = \frac{g_{ii}^2 p_i}{\sigma^2 + \sum_{j \ne i} g_{ij}^2 p_j}

    Which interferers count is decided by the caller through ``edge_gain``: the full
    materialized gains (physically complete, the default everywhere) or the thresholded
    ones (the papers' eq. (41)), see
    :meth:`~pyg_aggnn.data.WirelessEpisode.interference_gain`.

    Args:
        power: ``[N, *S]`` transmit powers, finite and ``>= 0``.
        direct_gain: ``[N]`` or ``[N, *S]`` direct amplitudes :math:`g_{ii}`.
        edge_index: ``[2, E]`` edges ``j -> i``.
        edge_gain: ``[E]`` or ``[E, *S]`` amplitudes :math:`g_{ij}`.
        noise_power: :math:`\sigma^2 > 0`, float or ``[N]`` (default: ``1.0``).

    Returns:
        ``[N, *S]`` SINR (linear).
    """
    _checks.check_channel(power, direct_gain, edge_index, edge_gain, noise_power)
    return _sinr(power, direct_gain, edge_index, edge_gain, noise_power)


def _rate(
    power: Tensor,
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    noise_power: float | Tensor,
) -> Tensor:
    return torch.log1p(_sinr(power, direct_gain, edge_index, edge_gain, noise_power))


def rate(
    power: Tensor,
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    noise_power: float | Tensor = 1.0,
) -> Tensor:
    r"""Shannon rate :math:`f_i = \log(1 + \mathrm{SINR}_i)` in nats, ``[N, *S]``.

    Arguments as in :func:`sinr`.
    """
    _checks.check_channel(power, direct_gain, edge_index, edge_gain, noise_power)
    return _rate(power, direct_gain, edge_index, edge_gain, noise_power)


def _per_graph(value: Tensor, batch: Tensor | None, num_graphs: int | None) -> Tensor:
    if batch is None:
        return value.sum(dim=0, keepdim=True)
    size = int(batch.max()) + 1 if num_graphs is None else num_graphs
    return scatter(value, batch, dim=0, dim_size=size, reduce="sum")


def sum_rate(
    rates: Tensor,
    batch: Tensor | None = None,
    weight: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Weighted sum rate per network, :math:`\sum_i \alpha_i f_i`.

    Args:
        rates: ``[N, *S]`` per-link rates (finite; any sign, so that rewards such as
            ``rate - demand`` sum too).
        batch: ``[N] long`` graph index of every link (``None``: one network).
        weight: ``[N]`` priority weights :math:`\alpha_i \ge 0` (default: all ones).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[B, *S]`` utility of each network.
    """
    _checks.check_per_link("rates", rates, "[N, *S]")
    check_values(
        ("rates", rates),
        *_checks.check_weight(weight, rates),
        *_checks.graph_checks(batch, num_graphs, rates.size(0)),
    )
    return _sum_rate(rates, batch, weight, num_graphs)


def _sum_rate(
    rates: Tensor, batch: Tensor | None, weight: Tensor | None, num_graphs: int | None
) -> Tensor:
    if weight is not None:
        rates = rates * _align(weight, rates)
    return _per_graph(rates, batch, num_graphs)


def proportional_fairness(
    avg_rates: Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    eps: float = 1e-9,
) -> Tensor:
    r"""Proportional-fair utility :math:`\sum_i \log(r_i + \epsilon)` per network, ``[B, *S]``.

    ``avg_rates`` are long-term average rates ``[N, *S]``, finite and ``> -eps`` (the
    domain of the logarithm); ``eps >= 0`` keeps a link with zero rate finite.
    """
    _checks.check_per_link("avg_rates", avg_rates, "[N, *S]")
    eps = check_non_negative("eps", eps)
    check_values(
        ("avg_rates", avg_rates, -eps, math.inf, True),
        *_checks.graph_checks(batch, num_graphs, avg_rates.size(0), "avg_rates"),
    )
    return _per_graph(torch.log(avg_rates + eps), batch, num_graphs)


def min_rate_slack(avg_rates: Tensor, min_rate: float | Tensor) -> Tensor:
    r"""Minimum-rate constraint slack :math:`r_i - c_{\min}`; ``>= 0`` means satisfied.

    ``avg_rates``: ``[N, *S]`` finite; ``min_rate``: a finite float or a tensor that
    broadcasts against ``avg_rates``.
    """
    _checks.check_per_link("avg_rates", avg_rates, "[N, *S]")
    if isinstance(min_rate, Tensor):
        check_float_tensor("min_rate", min_rate, "[] or [N, *S]")
        check_values(("avg_rates", avg_rates), ("min_rate", min_rate))
    else:
        if isinstance(min_rate, bool) or not isinstance(min_rate, (int, float)):
            raise ValueError(f"min_rate must be a finite number or a tensor, got {min_rate!r}")
        if not math.isfinite(min_rate):
            raise ValueError(f"min_rate must be a finite number, got {min_rate!r}")
        check_values(("avg_rates", avg_rates))
    return avg_rates - min_rate


def power_budget_slack(
    power: Tensor,
    p_max_total: float | Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Total power budget slack :math:`P_{\max} - \mathbf{1}^T p` per network, ``[B, *S]``.

    ``>= 0`` means the budget is met. ``power``: ``[N, *S]``, finite and ``>= 0``;
    ``p_max_total``: a float or ``[B]`` tensor, finite and ``>= 0``.
    """
    _checks.check_per_link("power", power, "[N, *S]")
    graph = _checks.graph_checks(batch, num_graphs, power.size(0), "power")
    pending = [("power", power, 0.0), *graph]
    if isinstance(p_max_total, Tensor):
        check_float_tensor("p_max_total", p_max_total, "[B]")
        if p_max_total.dim() > 1:
            raise ValueError(f"p_max_total must have shape [B], got {list(p_max_total.shape)}")
        pending.append(("p_max_total", p_max_total, 0.0))
    else:
        check_non_negative("p_max_total", p_max_total)
    check_values(*pending)
    return _power_budget_slack(power, p_max_total, batch, num_graphs)


def _power_budget_slack(
    power: Tensor, p_max_total: float | Tensor, batch: Tensor | None, num_graphs: int | None
) -> Tensor:
    total = _per_graph(power, batch, num_graphs)
    if isinstance(p_max_total, Tensor):
        p_max_total = _align(p_max_total, total)
    return p_max_total - total


def dense_to_edges(gain: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Turn a dense amplitude matrix ``gain: [m, m, *S]`` (``gain[i, j]``: Tx ``j`` -> Rx ``i``)
    into ``(direct_gain [m, *S], edge_index [2, m*m], edge_gain [m*m, *S])``.

    Every pair is kept, so the physics functions on the result are exact. Meant for
    small networks and tests. ``gain`` must be finite, ``>= 0`` and at most
    :func:`~pyg_aggnn._validation.amplitude_limit` of its dtype.
    """
    check_float_tensor("gain", gain, "[m, m, *S]")
    if gain.dim() < 2 or gain.size(0) != gain.size(1):
        raise ValueError(f"gain must have shape [m, m, *S], got {list(gain.shape)}")
    check_values(("gain", gain, 0.0, amplitude_limit(gain.dtype)))
    m = gain.size(0)
    dst, src = torch.meshgrid(
        torch.arange(m, device=gain.device), torch.arange(m, device=gain.device), indexing="ij"
    )
    edge_index = torch.stack([src.reshape(-1), dst.reshape(-1)])
    edge_gain = gain.reshape(m * m, *gain.shape[2:])
    direct = torch.diagonal(gain, dim1=0, dim2=1)  # [*S, m]
    direct = direct.movedim(-1, 0) if direct.dim() > 1 else direct
    return direct, edge_index, edge_gain
