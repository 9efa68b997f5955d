"""The papers' ad-hoc (device-to-device) network."""

from __future__ import annotations

import math

import torch

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.geometry import locality_order
from pyg_aggnn.wireless.pathloss import PathlossScenario, floor_distance, pathloss_amplitude
from pyg_aggnn.wireless.states import NodeState

__all__ = ["AdHoc", "pathloss_amplitude", "floor_distance"]


class AdHoc(PathlossScenario):
    r"""Ad-hoc network of the Agg-GNN papers.

    Transmitters are uniform in :math:`[-R, R]^2` with :math:`R = \sqrt{m\,m_{ref}}` and
    receiver :math:`b_i = a_i + U[-m_{ref}/4, m_{ref}/4]^2`, where :math:`m_{ref}`
    (``reference_links``) defaults to :math:`m`, which gives the papers' :math:`R = m`.
    Setting ``reference_links`` to the training size keeps the density of links (one per
    :math:`4 m_{ref}` square units) and the receiver offsets of the training networks:
    the fixed-density rule for transference across scale.

    Large-scale amplitude :math:`l_{ij} = \|a_j - b_i\|^{-\gamma}`. Pairs with
    :math:`l_{ij}` below ``interference_floor`` are never materialized when
    ``num_links > dense_max_links``; with transmit power :math:`p_0`, density
    :math:`\rho = 1/(4 m_{ref})` and cut-off distance :math:`d_f = \text{floor}^{-1/\gamma}`,
    the expected interference left out at a receiver is at most

    .. math::
        I_{\text{neglected}} \le \rho\, p_0\, 2\sigma^2\, \frac{2\pi\, d_f^{2 - 2\gamma}}{2\gamma - 2},

    i.e. :math:`5.6 \cdot 10^{-5}` noise powers for the defaults (:math:`m_{ref} = 25`,
    :math:`p_0 = 2`, :math:`\sigma^2 = 1`, :math:`\gamma = 2.2`, floor ``1e-3``,
    :math:`d_f = 23.1`), see :meth:`neglected_interference`. Such large networks also
    number their links by place (:func:`~pyg_aggnn.wireless.geometry.locality_order` of
    the receivers, strips of height :math:`d_f`), which keeps the GNNs' neighbourhood
    products cache-friendly; smaller ones keep the order in which links were drawn.

    Args:
        num_links: number of links ``m``.
        reference_links: training size :math:`m_{ref}` for fixed density (default: ``m``).
        pathloss_exponent: :math:`\gamma` (default: ``2.2``).
        min_distance: distances are clamped to at least this (default: ``1e-3``), keeping
            gains finite.
        interference_floor: smallest large-scale amplitude that is materialized
            (default: ``1e-3``).
        dense_max_links: networks up to this size keep every pair, exactly (default: 256).
        delta, fading_var, noise_power, p0, p_max_total, eta0, activation, state,
            link_weights: see :class:`Scenario` (defaults: the papers' ``0.3``, ``1.0``,
            ``1.0``, ``2.0``, ``m``; ``eta0 = 0.005``, an amplitude reached at distance
            ~11 with unit fading, i.e. about 4 neighbours per link at the papers' density).
    """

    def __init__(
        self,
        num_links: int = 25,
        reference_links: int | None = None,
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
        self.num_links = check_positive_int("num_links", num_links)
        self.reference_links = (
            num_links
            if reference_links is None
            else check_positive_int("reference_links", reference_links)
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

    @property
    def half_width(self) -> float:
        """Half side :math:`R` of the square holding the transmitters."""
        return math.sqrt(self.num_links * self.reference_links)

    def neglected_interference(self) -> float:
        """Upper bound on the mean interference power left out at a receiver (linear)."""
        cutoff = self.cutoff_distance()
        if cutoff is None:
            return 0.0
        density = 1.0 / (4.0 * self.reference_links)
        g = self.pathloss_exponent
        return (
            density
            * self.p0
            * 2
            * self.fading_var
            * 2
            * math.pi
            * cutoff ** (2 - 2 * g)
            / (2 * g - 2)
        )

    def sample_layout(self, generator=None):
        m, radius, offset = self.num_links, self.half_width, self.reference_links / 4.0
        tx_pos = (torch.rand(m, 2, generator=generator, dtype=torch.float64) * 2 - 1) * radius
        rx_pos = (
            tx_pos + (torch.rand(m, 2, generator=generator, dtype=torch.float64) * 2 - 1) * offset
        )
        cutoff = self.cutoff_distance()
        if cutoff is not None:  # a large network: number the links by place
            order = locality_order(rx_pos, cutoff)
            tx_pos, rx_pos = tx_pos[order], rx_pos[order]
        return self.pathloss_layout(tx_pos, rx_pos, torch.arange(m))
