"""Maximum ratio transmission at full power: every transmitter beams at its own receiver."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import check_values
from pyg_aggnn.baselines._common import per_node
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.wireless import miso

__all__ = ["max_ratio_transmission", "MaxRatioTransmission"]


def max_ratio_transmission(direct_channel: Tensor, max_power: float | Tensor = 1.0) -> Tensor:
    r"""Beamformers that maximise every link's own received power, at full power:

    .. math::
        v_k = \sqrt{p_{0,k}}\; \frac{h_{kk}}{\|h_{kk}\|}

    (the equal split :math:`\sqrt{p_{0,k} / N_t}` on every antenna where
    :math:`h_{kk} = 0`). Interference is ignored: the beamforming counterpart of full
    power, and the starting point of :func:`~pyg_aggnn.baselines.wmmse_beamforming`.

    Args:
        direct_channel: ``[N, *S, N_t] complex`` direct channels :math:`h_{kk}`.
        max_power: per-transmitter power :math:`p_{0,k} > 0`, float or ``[N]``
            (default: ``1.0``).

    Returns:
        ``[N, *S, N_t] complex`` beamformers.
    """
    miso.check_complex("direct_channel", direct_channel, "[N, *S, N_t]")
    check_values(("direct_channel", miso._real_view(direct_channel)))
    num_nodes, antennas = direct_channel.size(0), direct_channel.size(-1)
    real = direct_channel.real
    cap = per_node("max_power", max_power, num_nodes, real, positive=True)
    cap = cap.reshape(num_nodes, *([1] * (direct_channel.dim() - 1)))
    norm = miso._abs2(direct_channel).sum(-1, keepdim=True).sqrt()
    even = torch.full_like(direct_channel, 1.0 / math.sqrt(antennas))
    tiny = torch.finfo(norm.dtype).tiny
    direction = torch.where(norm > 0, direct_channel / norm.clamp_min(tiny), even)
    return direction * cap.sqrt().to(direction.dtype)


class MaxRatioTransmission(Baseline):
    """:func:`max_ratio_transmission` as a policy on MISO episodes, ``[N, T, N_t]``.

    Args:
        update_every, when_active: see :class:`Baseline`.
    """

    beamforming = True

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        if getattr(batch, "direct_channel", None) is None:
            raise ValueError(
                "batch must carry complex channels (direct_channel) for "
                "MaxRatioTransmission: simulate it with a multi-antenna scenario such as MISOD2D"
            )
        return max_ratio_transmission(batch.direct_channel[:, slots], batch.max_power)
