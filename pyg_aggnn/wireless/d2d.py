"""D2D links with realistic dual-slope path loss (the WCGCN paper's second benchmark)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import check_finite, check_positive, check_positive_int
from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.geometry import candidate_pairs, link_edges
from pyg_aggnn.wireless.scenario import Layout, Scenario
from pyg_aggnn.wireless.states import NodeState
from pyg_aggnn.wireless.units import SPEED_OF_LIGHT_M_S

__all__ = ["D2D", "dual_slope_pathloss_db"]


def dual_slope_pathloss_db(
    distance_m: Tensor, carrier_hz: float, tx_height_m: float, rx_height_m: float
) -> Tensor:
    r"""Line-of-sight dual-slope path loss in dB (ITU-R P.1411 short-range outdoor model).

    .. math::
        \lambda = c / f_c,\quad R_{bp} = \frac{4 h_t h_r}{\lambda},\quad
        L_{bp} = \left|20 \log_{10} \frac{\lambda^2}{8 \pi h_t h_r}\right|,

        L(d) = L_{bp} + 6 + \begin{cases}
            20 \log_{10}(d / R_{bp}) & d \le R_{bp} \\
            40 \log_{10}(d / R_{bp}) & d > R_{bp}
        \end{cases}

    At 2.4 GHz with 1.5 m antennas, :math:`R_{bp} = 72` m and :math:`L_{bp} = 71.2` dB.
    """
    wavelength = SPEED_OF_LIGHT_M_S / carrier_hz
    breakpoint_m = 4 * tx_height_m * rx_height_m / wavelength
    loss_bp = abs(20 * math.log10(wavelength**2 / (8 * math.pi * tx_height_m * rx_height_m)))
    slope = torch.where(distance_m <= breakpoint_m, 20.0, 40.0)
    return loss_bp + 6 + slope * torch.log10(distance_m / breakpoint_m)


class D2D(Scenario):
    r"""Device-to-device links with realistic path loss.

    Transmitters are uniform in a square field of side ``field_side_m``; each receiver
    lies at a distance uniform in ``[min_link_distance_m, max_link_distance_m]`` from its
    transmitter, in a uniform direction. The power gain of pair ``(i, j)`` in dB is

    .. math::
        G_{ij} = -L(d_{ij}) + X_{ij} + G_a \mathbb{1}[i = j],\qquad X_{ij} \sim \mathcal{N}(0, s^2)

    with :math:`L` from :func:`dual_slope_pathloss_db`, log-normal shadowing of
    ``shadowing_db`` standard deviation (fixed over the episode) and antenna gain
    :math:`G_a` on direct links only; Rayleigh fast fading with :math:`E|f|^2 = 1` comes
    on top. Powers and gains are normalised so that the numbers stay near one: transmit
    power is expressed in units of ``tx_power_dbm`` (``p0 = 1``), the noise power
    :math:`N_0 W` (``noise_dbm_per_hz + 10 log10(bandwidth_hz)``) is ``1``, and the
    amplitude is :math:`|h_{ij}| = \sqrt{10^{G_{ij}/10} P_{tx} / (N_0 W)}\,|f_{ij}|`. The
    SINR is exactly the physical one.

    Args:
        num_links: number of links (default: ``50``).
        field_side_m: side of the field in metres (default: ``1000``, the paper's value for
            50 links; scale it as ``1000 * sqrt(m / 50)`` for fixed density).
        min_link_distance_m, max_link_distance_m: Tx-Rx distance range (default: 2, 65).
        carrier_hz (default: 2.4e9), antenna_height_m (default: 1.5),
        antenna_gain_db (default: 2.5), shadowing_db (default: 8.0),
        tx_power_dbm (default: 40.0), noise_dbm_per_hz (default: -169.0),
        bandwidth_hz (default: 5e6).
        interference_floor_db: pairs whose median interference-to-noise ratio
            (without shadowing) is below this are dropped when ``num_links >
            dense_max_links`` (default: ``-40`` dB).
        dense_max_links: networks up to this size keep every pair (default: ``256``).
        delta: fading innovation factor (default: ``1.0``, i.i.d. slots).
        eta0: graph threshold on the normalised amplitude (default: ``1.0``, i.e. an
            interferer at the noise level at full power).
        p_max_total, activation, state, link_weights: see :class:`Scenario`.
    """

    def __init__(
        self,
        num_links: int = 50,
        field_side_m: float = 1000.0,
        min_link_distance_m: float = 2.0,
        max_link_distance_m: float = 65.0,
        carrier_hz: float = 2.4e9,
        antenna_height_m: float = 1.5,
        antenna_gain_db: float = 2.5,
        shadowing_db: float = 8.0,
        tx_power_dbm: float = 40.0,
        noise_dbm_per_hz: float = -169.0,
        bandwidth_hz: float = 5e6,
        interference_floor_db: float = -40.0,
        dense_max_links: int = 256,
        delta: float = 1.0,
        p_max_total: float | None = None,
        eta0: float = 1.0,
        activation: Activation | None = None,
        state: NodeState | None = None,
        link_weights: str = "ones",
    ):
        self.num_links = check_positive_int("num_links", num_links)
        self.field_side_m = check_positive("field_side_m", field_side_m)
        self.min_link_distance_m = check_positive("min_link_distance_m", min_link_distance_m)
        self.max_link_distance_m = check_positive("max_link_distance_m", max_link_distance_m)
        if self.max_link_distance_m < self.min_link_distance_m:
            raise ValueError(
                f"max_link_distance_m must be >= min_link_distance_m ({min_link_distance_m}), "
                f"got {max_link_distance_m!r}"
            )
        self.carrier_hz = check_positive("carrier_hz", carrier_hz)
        self.antenna_height_m = check_positive("antenna_height_m", antenna_height_m)
        self.antenna_gain_db = check_finite("antenna_gain_db", antenna_gain_db)
        self.shadowing_db = check_finite("shadowing_db", shadowing_db)
        if not self.shadowing_db >= 0:
            raise ValueError(f"shadowing_db must be >= 0, got {shadowing_db!r}")
        self.tx_power_dbm = check_finite("tx_power_dbm", tx_power_dbm)
        self.noise_dbm_per_hz = check_finite("noise_dbm_per_hz", noise_dbm_per_hz)
        self.bandwidth_hz = check_positive("bandwidth_hz", bandwidth_hz)
        self.interference_floor_db = check_finite("interference_floor_db", interference_floor_db)
        self.dense_max_links = check_positive_int("dense_max_links", dense_max_links, minimum=0)
        super().__init__(
            delta=delta,
            fading_var=0.5,
            noise_power=1.0,
            p0=1.0,
            p_max_total=p_max_total,
            eta0=eta0,
            activation=activation,
            state=state,
            link_weights=link_weights,
        )

    @property
    def snr_headroom_db(self) -> float:
        """:math:`P_{tx} / (N_0 W)` in dB: the gain normalisation."""
        noise_dbm = self.noise_dbm_per_hz + 10 * math.log10(self.bandwidth_hz)
        return self.tx_power_dbm - noise_dbm

    def cutoff_distance(self) -> float | None:
        """Distance where the median INR reaches ``interference_floor_db`` (``None``: dense)."""
        if self.num_links <= self.dense_max_links:
            return None
        target_db = self.snr_headroom_db - self.interference_floor_db
        low, high = 1.0, 1e9
        for _ in range(200):  # bisection on the monotone path loss
            mid = math.sqrt(low * high)
            loss = float(
                dual_slope_pathloss_db(
                    torch.tensor(mid), self.carrier_hz, self.antenna_height_m, self.antenna_height_m
                )
            )
            low, high = (mid, high) if loss < target_db else (low, mid)
        return high

    def sample_layout(self, generator=None):
        m = self.num_links
        tx_pos = torch.rand(m, 2, generator=generator, dtype=torch.float64) * self.field_side_m
        span = self.max_link_distance_m - self.min_link_distance_m
        length = self.min_link_distance_m + span * torch.rand(
            m, generator=generator, dtype=torch.float64
        )
        angle = 2 * math.pi * torch.rand(m, generator=generator, dtype=torch.float64)
        rx_pos = tx_pos + torch.stack([length * angle.cos(), length * angle.sin()], dim=1)
        receiver = torch.arange(m)
        tx, rx = candidate_pairs(tx_pos, rx_pos, self.cutoff_distance())
        edge_index, edge_pair, pair_tx, pair_rx = link_edges(tx, rx, receiver)
        distance = torch.linalg.vector_norm(tx_pos[pair_tx] - rx_pos[pair_rx], dim=1)
        loss_db = dual_slope_pathloss_db(
            distance.clamp_min(1.0), self.carrier_hz, self.antenna_height_m, self.antenna_height_m
        )
        shadow_db = (
            torch.randn(distance.shape, generator=generator, dtype=torch.float64)
            * self.shadowing_db
        )
        direct = (receiver[pair_tx] == pair_rx).to(torch.float64)
        gain_db = -loss_db + shadow_db + self.antenna_gain_db * direct + self.snr_headroom_db
        large_scale = torch.sqrt(torch.pow(10.0, gain_db / 10.0))
        return Layout(tx_pos, rx_pos, receiver, edge_index, large_scale, edge_pair)
