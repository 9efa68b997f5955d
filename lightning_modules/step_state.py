"""The state one training step of :class:`~lightning_modules.PrimalDualModule` passes
from the primal loss to the dual step and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["BatchLayout", "StepObservation"]


@dataclass(frozen=True)
class BatchLayout:
    """Where every link of a batch (``N`` links, ``B`` networks, ``D`` dual entries)
    enters the duals.

    Attributes:
        graph: ``[N] long`` network of every link.
        num_graphs: ``B``.
        index: ``[N] long`` dual entry of every link (its position in a fixed network;
            ``0`` for the scalar duals of random networks).
        rate_weight: ``[N]`` weight of a link's reward in its entry (``alpha_i / m``
            for random networks, ``1`` for a fixed one).
        power_scale: ``[B]`` weight of a network's budget slack (``1 / m`` or ``1``).
        utility_weight: ``[D]`` utility weights :math:`\\alpha` of the entries (fixed
            network), or ``None`` (the rate weight carries them).
    """

    graph: Tensor
    num_graphs: int
    index: Tensor
    rate_weight: Tensor
    power_scale: Tensor
    utility_weight: Tensor | None


@dataclass(frozen=True)
class StepObservation:
    """What a step observed on the air (``S`` action samples), all detached.

    Attributes:
        layout: the batch's :class:`BatchLayout`.
        rates: ``[N, T, S]`` rates in nats.
        reward: ``[N, T, S]`` the problem's reward.
        power: ``[N, T, S]`` powers on the air.
        scored: ``[T, 1]`` mask of the scored slots.
        entropy: ``[]`` mean entropy of the decisions (``0`` model-based).
        saturated: ``[]`` fraction of the decisions whose logit passes no gradient.
        spread: ``[]`` standard deviation of the decisions' logits (``0``: every link
            decides alike, the policy cannot tell links apart).
    """

    layout: BatchLayout
    rates: Tensor
    reward: Tensor
    power: Tensor
    scored: Tensor
    entropy: Tensor
    saturated: Tensor
    spread: Tensor | None = None
