"""Random full power: every link transmits at full power with a fixed probability."""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines._common import (
    draw_uniform,
    graph_sizes,
    per_graph,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.data.batching import batch_vector

__all__ = ["random_full_power", "RandomFullPower"]


def random_full_power(
    max_power: Tensor,
    p_max_total: float | Tensor,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    num_samples: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Random on/off allocation that meets the budget on average.

    .. math::
        p_i = p_{0,i}\, b_i, \qquad b_i \sim \mathrm{Bernoulli}(q_i), \qquad
        q_i = \min\Big(1, \frac{P_{\max}}{m\, p_{0,i}}\Big),

    independently over links and samples, so that
    :math:`\mathbb{E}\big[\sum_i p_i\big] = P_{\max}` whenever no :math:`q_i` is clipped
    (and :math:`\le P_{\max}` always).

    Args:
        max_power: ``[N] float`` per-link maximum power :math:`p_0` (linear).
        p_max_total: total budget :math:`P_{\max}` per network, float or ``[B]``.
        batch: ``[N] long`` network of every link (default: ``None``, one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).
        num_samples: draw ``[N, num_samples]`` independent allocations (default:
            ``None``, one ``[N]`` allocation).
        generator: random stream; draws happen on the generator's device, so a seed
            gives the same powers on every device (default: ``None``, torch's).

    Returns:
        ``[N]`` or ``[N, num_samples]`` powers in :math:`\{0, p_{0,i}\}`.
    """
    if not isinstance(max_power, Tensor) or max_power.dim() != 1:
        raise ValueError(f"max_power must be a [N] tensor, got {max_power!r}")
    num_nodes = max_power.size(0)
    p0 = per_node("max_power", max_power, num_nodes, max_power, positive=True)
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, max_power.device)
    budget = per_graph("p_max_total", p_max_total, num_graphs, p0)
    share = budget / graph_sizes(batch, num_graphs).clamp(min=1)
    prob = (share[batch] / p0).clamp(max=1.0)  # [N]
    shape = (num_nodes,) if num_samples is None else (num_nodes, num_samples)
    if num_samples is not None:
        check_positive_int("num_samples", num_samples)
        prob = prob[:, None]
    u = draw_uniform(shape, generator or torch.default_generator, p0)
    return torch.where(u < prob, p0 if num_samples is None else p0[:, None], 0.0)


class RandomFullPower(Baseline):
    """:func:`random_full_power` as a policy: a fresh draw at every decision slot.

    Args:
        update_every, when_active: see :class:`Baseline`.
    """

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        vector, num_graphs = batch_vector(batch)
        return random_full_power(
            batch.max_power, batch.p_max_total, vector, num_graphs, slots.numel(), generator
        )
