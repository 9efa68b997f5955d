r"""D2D links with multi-antenna transmitters: the WCGCN paper's beamforming benchmark."""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.d2d import D2D
from pyg_aggnn.wireless.fading import ar1_rayleigh
from pyg_aggnn.wireless.scenario import Layout
from pyg_aggnn.wireless.states import NodeState

__all__ = ["MISOD2D"]


def _magnitude(parts: Tensor) -> Tensor:
    """``|f|`` of ``[P, T, 2]`` real and imaginary parts, ``[P, T]``, computed slot by slot
    on contiguous rows exactly as :func:`~pyg_aggnn.wireless.ar1_rayleigh` emits its
    amplitudes, so that one antenna gives the single-antenna scenario's numbers bit for
    bit (a vectorised ``hypot`` over another layout may differ in the last digit).
    """
    out = parts.new_empty(parts.size(1), parts.size(0))
    for t in range(parts.size(1)):
        torch.hypot(parts[:, t, 0].contiguous(), parts[:, t, 1].contiguous(), out=out[t])
    return out.transpose(0, 1).contiguous()


class MISOD2D(D2D):
    r"""The :class:`~pyg_aggnn.wireless.D2D` network with :math:`N_t`-antenna transmitters
    and single-antenna receivers (MISO interference channel, the WCGCN paper's Section
    V-C).

    Geometry, path loss, shadowing and antenna gain are those of
    :class:`~pyg_aggnn.wireless.D2D` (one large-scale amplitude :math:`l_{jk}` per
    transmitter-receiver pair, in the same normalised units: powers in units of
    ``tx_power_dbm``, noise power ``1``). Every antenna :math:`n` of every pair fades
    independently, with AR(1) Rayleigh fading in time as in every scenario:

    .. math::
        h_{jk,n}(t) = l_{jk}\, f_{jk,n}(t),\qquad
        f(t+1) = \sqrt{1-\delta}\, f(t) + \sqrt{\delta}\, w(t+1),\quad
        w \sim \mathcal{CN}(0, 1),

    so :math:`E\|h_{jk}\|^2 = N_t\, l_{jk}^2`. Episodes carry, beside every field of a
    single-antenna episode,

    * ``edge_channel``: ``[E, T, N_t] complex`` (``complex64`` for ``float32``), the
      channel :math:`h_{jk}(t)` of every candidate edge ``j -> k``; the received
      amplitude of beamformer :math:`v_j` is :math:`h_{jk}^H v_j`
      (:mod:`pyg_aggnn.wireless.miso`);
    * ``direct_channel``: ``[K, T, N_t] complex``, :math:`h_{kk}(t)`;

    and ``edge_gain`` / ``direct_gain`` hold the norms :math:`\|h_{jk}(t)\|` (the graph
    threshold ``eta0`` and the single-antenna policies read them). The transmit power
    constraint is :math:`\|v_k\|^2 \le p_0` (``max_power``, ``1``: the full
    ``tx_power_dbm``) for every transmitter. With ``num_antennas=1`` the episode is
    exactly the one :class:`~pyg_aggnn.wireless.D2D` draws from the same seed (the same
    numbers, tested), plus its complex channels.

    Args:
        num_links: number of links :math:`K` (default: ``50``).
        num_antennas: transmit antennas :math:`N_t` (default: ``2``).
        field_side_m, min_link_distance_m, max_link_distance_m, carrier_hz,
            antenna_height_m, antenna_gain_db, shadowing_db, tx_power_dbm,
            noise_dbm_per_hz, bandwidth_hz, interference_floor_db, dense_max_links,
            delta, p_max_total, eta0, activation, state, link_weights: as in
            :class:`~pyg_aggnn.wireless.D2D`, whose defaults apply where ``None``
            (default: ``None``).
    """

    def __init__(
        self,
        num_links: int = 50,
        num_antennas: int = 2,
        field_side_m: float | None = None,
        min_link_distance_m: float | None = None,
        max_link_distance_m: float | None = None,
        carrier_hz: float | None = None,
        antenna_height_m: float | None = None,
        antenna_gain_db: float | None = None,
        shadowing_db: float | None = None,
        tx_power_dbm: float | None = None,
        noise_dbm_per_hz: float | None = None,
        bandwidth_hz: float | None = None,
        interference_floor_db: float | None = None,
        dense_max_links: int | None = None,
        delta: float | None = None,
        p_max_total: float | None = None,
        eta0: float | None = None,
        activation: Activation | None = None,
        state: NodeState | None = None,
        link_weights: str | None = None,
    ):
        self.num_antennas = check_positive_int("num_antennas", num_antennas)
        d2d = dict(
            field_side_m=field_side_m,
            min_link_distance_m=min_link_distance_m,
            max_link_distance_m=max_link_distance_m,
            carrier_hz=carrier_hz,
            antenna_height_m=antenna_height_m,
            antenna_gain_db=antenna_gain_db,
            shadowing_db=shadowing_db,
            tx_power_dbm=tx_power_dbm,
            noise_dbm_per_hz=noise_dbm_per_hz,
            bandwidth_hz=bandwidth_hz,
            interference_floor_db=interference_floor_db,
            dense_max_links=dense_max_links,
            delta=delta,
            p_max_total=p_max_total,
            eta0=eta0,
            activation=activation,
            state=state,
            link_weights=link_weights,
        )
        super().__init__(num_links, **{k: v for k, v in d2d.items() if v is not None})

    def edge_fading(
        self, layout: Layout, num_slots: int, generator: torch.Generator, dtype: torch.dtype
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Norms ``[E, T]`` and complex channels ``[E, T, N_t]`` of every edge (class doc)."""
        pairs, antennas = layout.num_pairs, self.num_antennas
        fading = ar1_rayleigh(
            pairs * antennas,
            num_slots,
            self.delta,
            self.fading_var,
            generator,
            dtype,
            return_complex=True,
        )  # [P * N_t, T, 2], pair-major, then antenna
        magnitude = _magnitude(fading).view(pairs, antennas, num_slots)
        norm = magnitude[:, 0] if antennas == 1 else torch.linalg.vector_norm(magnitude, dim=1)
        fading = fading.view(pairs, antennas, num_slots, 2)
        large_scale = layout.large_scale.to(dtype)
        pair_gain = large_scale[:, None] * norm  # [P, T]
        unit = torch.view_as_complex(fading.permute(0, 2, 1, 3).contiguous())  # [P, T, N_t]
        channel = large_scale[:, None, None] * unit
        edge_channel = channel[layout.edge_pair]  # [E, T, N_t]
        src, dst = layout.edge_index
        loops = torch.nonzero(src == dst).squeeze(1)  # [K], sorted by link
        fields = {"edge_channel": edge_channel, "direct_channel": edge_channel[loops]}
        return pair_gain[layout.edge_pair], fields
