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
* ``noise_power: float or [N] float``: receiver noise power, linear.
* Rates are in nats per channel use.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

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


def interference_power(
    power: Tensor, edge_index: Tensor, edge_gain: Tensor, num_nodes: int | None = None
) -> Tensor:
    r"""Interference received by each link, :math:`\sum_{j \ne i} g_{ij}^2 p_j`.

    Args:
        power: ``[N, *S]`` transmit powers.
        edge_index: ``[2, E]`` edges ``j -> i``; self loops are skipped.
        edge_gain: ``[E, *S]`` (or ``[E]``) amplitude gains of the edges.
        num_nodes: number of links ``N`` (default: ``power.size(0)``).

    Returns:
        ``[N, *S]`` interference power at every victim link.
    """
    num_nodes = power.size(0) if num_nodes is None else num_nodes
    src, dst = edge_index
    cross = (src != dst).to(power.dtype)  # [E]
    gain_sq = edge_gain.square() * _align(cross, edge_gain)  # [E, *S]
    received = _align(gain_sq, power) * power[src]  # [E, *S]
    return scatter(received, dst, dim=0, dim_size=num_nodes, reduce="sum")


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

    Returns:
        ``[N, *S]`` SINR (linear).
    """
    interference = interference_power(power, edge_index, edge_gain, power.size(0))
    if isinstance(noise_power, Tensor):
        noise_power = _align(noise_power, power)
    signal = _align(direct_gain, power).square() * power
    return signal / (noise_power + interference)


def rate(
    power: Tensor,
    direct_gain: Tensor,
    edge_index: Tensor,
    edge_gain: Tensor,
    noise_power: float | Tensor = 1.0,
) -> Tensor:
    r"""Shannon rate :math:`f_i = \log(1 + \mathrm{SINR}_i)` in nats, ``[N, *S]``."""
    return torch.log1p(sinr(power, direct_gain, edge_index, edge_gain, noise_power))


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
        rates: ``[N, *S]`` per-link rates.
        batch: ``[N] long`` graph index of every link (``None``: one network).
        weight: ``[N]`` priority weights :math:`\alpha_i \ge 0` (default: all ones).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[B, *S]`` utility of each network.
    """
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

    ``avg_rates`` are long-term average rates ``[N, *S]``; ``eps`` keeps a link with
    zero rate finite.
    """
    return _per_graph(torch.log(avg_rates + eps), batch, num_graphs)


def min_rate_slack(avg_rates: Tensor, min_rate: float | Tensor) -> Tensor:
    r"""Minimum-rate constraint slack :math:`r_i - c_{\min}`; ``>= 0`` means satisfied."""
    return avg_rates - min_rate


def power_budget_slack(
    power: Tensor,
    p_max_total: float | Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Total power budget slack :math:`P_{\max} - \mathbf{1}^T p` per network, ``[B, *S]``.

    ``>= 0`` means the budget is met. ``p_max_total`` is a float or ``[B]`` tensor.
    """
    total = _per_graph(power, batch, num_graphs)
    if isinstance(p_max_total, Tensor):
        p_max_total = _align(p_max_total, total)
    return p_max_total - total


def dense_to_edges(gain: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Turn a dense amplitude matrix ``gain: [m, m, *S]`` (``gain[i, j]``: Tx ``j`` -> Rx ``i``)
    into ``(direct_gain [m, *S], edge_index [2, m*m], edge_gain [m*m, *S])``.

    Every pair is kept, so the physics functions on the result are exact. Meant for
    small networks and tests.
    """
    m = gain.size(0)
    dst, src = torch.meshgrid(
        torch.arange(m, device=gain.device), torch.arange(m, device=gain.device), indexing="ij"
    )
    edge_index = torch.stack([src.reshape(-1), dst.reshape(-1)])
    edge_gain = gain.reshape(m * m, *gain.shape[2:])
    direct = torch.diagonal(gain, dim1=0, dim2=1)  # [*S, m]
    direct = direct.movedim(-1, 0) if direct.dim() > 1 else direct
    return direct, edge_index, edge_gain
