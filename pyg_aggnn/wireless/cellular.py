"""Multi-cell uplink: users of a cell share their base station as receiver."""

from __future__ import annotations

import math

import torch

from pyg_aggnn._validation import check_positive, check_positive_int
from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.pathloss import PathlossScenario
from pyg_aggnn.wireless.states import NodeState

__all__ = ["Cellular"]


class Cellular(PathlossScenario):
    r"""Cellular multi-cell uplink.

    ``num_cells`` base stations are uniform in :math:`[-R, R]^2`; each serves
    ``users_per_cell`` users drawn uniformly in a disc of radius ``cell_radius`` around
    it. Link ``i`` is user ``i`` -> its base station :math:`r(i)`, so users of one cell
    interfere with each other at the same receiver: an edge ``j -> i`` exists for every
    user ``j`` heard at :math:`r(i)`, and all links of one cell share their incoming
    gains. Path loss :math:`l = d^{-\gamma}` as in :class:`AdHoc`, with the same
    interference floor for networks above ``dense_max_links`` links.

    Args:
        num_cells: number of base stations ``n`` (default: ``5``).
        users_per_cell: users per base station (default: ``10``); ``m = n * users``.
        half_width: :math:`R` (default: ``m``, the ad-hoc convention).
        cell_radius: radius of the user disc (default: ``m / 4``).
        pathloss_exponent, min_distance, interference_floor, dense_max_links: as in
            :class:`AdHoc`.
        delta, fading_var, noise_power, p0, p_max_total, eta0, activation, state,
            link_weights: see :class:`Scenario` (defaults as :class:`AdHoc`).
    """

    def __init__(
        self,
        num_cells: int = 5,
        users_per_cell: int = 10,
        half_width: float | None = None,
        cell_radius: float | None = None,
        pathloss_exponent: float = 2.2,
        min_distance: float = 1e-3,
        interference_floor: float = 1e-3,
        dense_max_links: int = 256,
        delta: float = 0.3,
        fading_var: float = 1.0,
        noise_power: float = 1.0,
        p0: float = 2.0,
        p_max_total: float | None = None,
        eta0: float = 0.005,
        activation: Activation | None = None,
        state: NodeState | None = None,
        link_weights: str = "ones",
    ):
        self.num_cells = check_positive_int("num_cells", num_cells)
        self.users_per_cell = check_positive_int("users_per_cell", users_per_cell)
        self.num_links = num_cells * users_per_cell
        self.half_width = (
            float(self.num_links)
            if half_width is None
            else check_positive("half_width", half_width)
        )
        self.cell_radius = (
            self.num_links / 4.0
            if cell_radius is None
            else check_positive("cell_radius", cell_radius)
        )
        super().__init__(
            pathloss_exponent=pathloss_exponent,
            min_distance=min_distance,
            interference_floor=interference_floor,
            dense_max_links=dense_max_links,
            delta=delta,
            fading_var=fading_var,
            noise_power=noise_power,
            p0=p0,
            p_max_total=p_max_total,
            eta0=eta0,
            activation=activation,
            state=state,
            link_weights=link_weights,
        )

    def sample_layout(self, generator=None):
        n, users = self.num_cells, self.users_per_cell
        bs_pos = (
            torch.rand(n, 2, generator=generator, dtype=torch.float64) * 2 - 1
        ) * self.half_width
        receiver = torch.arange(n).repeat_interleave(users)  # [m]
        # uniform in a disc: radius ~ R sqrt(U), angle ~ U[0, 2 pi)
        radius = (
            self.cell_radius
            * torch.rand(n * users, generator=generator, dtype=torch.float64).sqrt()
        )
        angle = 2 * math.pi * torch.rand(n * users, generator=generator, dtype=torch.float64)
        tx_pos = bs_pos[receiver] + torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
        return self.pathloss_layout(tx_pos, bs_pos, receiver)
