"""Power-law path loss with an interference floor, shared by the geometric scenarios."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import (
    amplitude_limit,
    check_non_negative,
    check_positive,
    check_positive_int,
)
from pyg_aggnn.wireless.geometry import candidate_pairs, link_edges
from pyg_aggnn.wireless.scenario import Layout, Scenario

__all__ = ["PathlossScenario", "pathloss_amplitude", "floor_distance"]


def pathloss_amplitude(distance: Tensor, exponent: float, min_distance: float) -> Tensor:
    """Large-scale amplitude ``max(d, min_distance) ** -exponent`` (linear).

    ``exponent`` and ``min_distance`` must be finite and ``> 0``.
    """
    check_positive("exponent", exponent)
    check_positive("min_distance", min_distance)
    return distance.clamp_min(min_distance).pow(-exponent)


def floor_distance(interference_floor: float, exponent: float) -> float:
    """Distance beyond which the large-scale amplitude falls below ``interference_floor``."""
    return interference_floor ** (-1.0 / exponent)


class PathlossScenario(Scenario):
    r"""A scenario with large-scale amplitude :math:`l = \max(d, d_{\min})^{-\gamma}`.

    Networks of more than ``dense_max_links`` links keep only the pairs whose
    large-scale amplitude is at least ``interference_floor`` (found with a cell list);
    smaller ones keep every pair.

    The clamp at :math:`d_{\min}` is what keeps the physics finite: the largest
    large-scale amplitude is :math:`d_{\min}^{-\gamma}`, and it must not exceed
    :func:`~pyg_aggnn._validation.amplitude_limit` of float32 (``2.1e9``, the default
    dtype), so that squared gains, received powers and WMMSE's products of them cannot
    overflow. A smaller ``min_distance`` is refused at construction, naming the smallest
    allowed one, :math:`(2.1 \cdot 10^9)^{-1/\gamma}` (``5.7e-5`` for
    :math:`\gamma = 2.2`, ``7.8e-4`` for :math:`\gamma = 3`, ``4.6e-3`` for
    :math:`\gamma = 4`). Receivers that close to a
    transmitter are far inside the near field anyway, where the power law does not hold.

    Args:
        pathloss_exponent: :math:`\gamma > 0`.
        min_distance: :math:`d_{\min} > 0`, keeps gains finite (see above).
        interference_floor: smallest materialized large-scale amplitude (``>= 0``).
        dense_max_links: largest network kept dense (``>= 0``).
        **common: the arguments of :class:`Scenario`.
    """

    def __init__(
        self,
        *,
        pathloss_exponent: float,
        min_distance: float,
        interference_floor: float,
        dense_max_links: int,
        **common,
    ):
        self.pathloss_exponent = check_positive("pathloss_exponent", pathloss_exponent)
        self.min_distance = check_positive("min_distance", min_distance)
        limit = amplitude_limit(torch.float32)
        if -self.pathloss_exponent * math.log(self.min_distance) > math.log(limit):
            smallest = limit ** (-1.0 / self.pathloss_exponent)
            raise ValueError(
                f"min_distance must be >= {smallest:.3g} for pathloss_exponent="
                f"{self.pathloss_exponent:g} (the peak amplitude min_distance ** "
                f"-pathloss_exponent must stay <= {limit:.3g} so that float32 received "
                f"powers cannot overflow), got {min_distance!r}"
            )
        self.interference_floor = check_non_negative("interference_floor", interference_floor)
        self.dense_max_links = check_positive_int("dense_max_links", dense_max_links, minimum=0)
        super().__init__(**common)

    def cutoff_distance(self) -> float | None:
        """Distance beyond which pairs are dropped (``None``: dense, every pair kept)."""
        if self.num_links <= self.dense_max_links or self.interference_floor == 0:
            return None
        return floor_distance(self.interference_floor, self.pathloss_exponent)

    def pathloss_layout(self, tx_pos: Tensor, rx_pos: Tensor, receiver: Tensor) -> Layout:
        """Candidate pairs and their large-scale gains for the given positions."""
        tx, rx = candidate_pairs(tx_pos, rx_pos, self.cutoff_distance())
        edge_index, edge_pair, pair_tx, pair_rx = link_edges(tx, rx, receiver)
        distance = torch.linalg.vector_norm(tx_pos[pair_tx] - rx_pos[pair_rx], dim=1)
        large_scale = pathloss_amplitude(distance, self.pathloss_exponent, self.min_distance)
        return Layout(tx_pos, rx_pos, receiver, edge_index, large_scale, edge_pair)
