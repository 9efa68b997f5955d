"""The Gaussian interference channel benchmark of the WCGCN paper."""

from __future__ import annotations

import math

import torch

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.scenario import Layout, Scenario
from pyg_aggnn.wireless.states import NodeState
from pyg_aggnn.wireless.units import db_to_linear, linear_to_db

__all__ = ["GaussianIC"]


class GaussianIC(Scenario):
    r"""``K``-user Gaussian interference channel.

    Every pair is materialized with unit large-scale gain and :math:`h_{ij} \sim
    \mathcal{CN}(0, 1)` (``fading_var = 0.5``), i.i.d. over slots by default
    (``delta = 1``); each link may use up to ``p0 = 1`` and the SNR sets
    ``noise_power = 10 ** (-snr_db / 10)``. The graph is complete (``eta0 = 0``).

    Args:
        num_links: number of links ``K`` (default: ``10``).
        snr_db: signal-to-noise ratio in dB, finite, in ``[-385.3, 379.3]`` so that the
            noise power is a normal float32 number (default: ``0.0``).
        delta: fading innovation factor (default: ``1.0``, i.i.d. slots).
        p0: per-link maximum power (default: ``1.0``).
        p_max_total: total budget (default: ``K``, one per link).
        eta0, activation, state, link_weights: see :class:`Scenario`.
    """

    def __init__(
        self,
        num_links: int = 10,
        snr_db: float = 0.0,
        delta: float = 1.0,
        p0: float = 1.0,
        p_max_total: float | None = None,
        eta0: float = 0.0,
        activation: Activation | None = None,
        state: NodeState | None = None,
        link_weights: str = "ones",
    ):
        self.num_links = check_positive_int("num_links", num_links)
        if (
            not isinstance(snr_db, (int, float))
            or isinstance(snr_db, bool)
            or not math.isfinite(snr_db)
        ):
            raise ValueError(f"snr_db must be a finite number, got {snr_db!r}")
        finfo = torch.finfo(torch.float32)
        low, high = linear_to_db(1 / float(finfo.max)), linear_to_db(1 / float(finfo.tiny))
        if not low <= snr_db <= high:
            raise ValueError(
                f"snr_db must be in [{low:.1f}, {high:.1f}] (noise_power = 10 ** (-snr_db / "
                f"10) must be a normal float32 number), got {snr_db!r}"
            )
        self.snr_db = float(snr_db)
        super().__init__(
            delta=delta,
            fading_var=0.5,
            noise_power=db_to_linear(-self.snr_db),
            p0=p0,
            p_max_total=p_max_total,
            eta0=eta0,
            activation=activation,
            state=state,
            link_weights=link_weights,
        )

    def sample_layout(self, generator=None):
        m = self.num_links
        dst, src = torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij")
        edge_index = torch.stack([src.reshape(-1), dst.reshape(-1)])
        zeros = torch.zeros(m, 2, dtype=torch.float64)
        return Layout(
            zeros,
            zeros.clone(),
            torch.arange(m),
            edge_index,
            torch.ones(m * m, dtype=torch.float64),
            torch.arange(m * m),
        )
