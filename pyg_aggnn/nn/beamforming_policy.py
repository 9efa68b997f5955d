"""The interface of policies that output beamformers instead of powers (MISO channels)."""

from __future__ import annotations

from torch import Tensor

from pyg_aggnn._validation import check_positive_int, check_shape
from pyg_aggnn.nn.policy import PowerPolicy
from pyg_aggnn.wireless.miso import check_complex

__all__ = ["BeamformingPolicy"]


class BeamformingPolicy(PowerPolicy):
    r"""Base class of the policies of the MISO interference channel
    (:mod:`pyg_aggnn.wireless.miso`): every link's transmitter chooses a beamformer
    :math:`v_k \in \mathbb{C}^{N_t}` with :math:`\|v_k\|^2 \le p_{0,k}` (``max_power``).

    A subclass implements :meth:`beamformers`, the one override point. It is a
    :class:`~pyg_aggnn.nn.PowerPolicy` so that it plugs into the same training module and
    configuration (``model.policy: class_path``), which trains it model-based through the
    MISO rate (:func:`pyg_aggnn.on_air.allocate`); it has no logits.

    Args:
        num_antennas: transmit antennas :math:`N_t` the policy is built for.
    """

    beamforming = True

    def __init__(self, num_antennas: int):
        super().__init__()
        self.num_antennas = check_positive_int("num_antennas", num_antennas)

    def beamformers(self, batch, all_slots: bool = False) -> Tensor:
        """``[N, N_t] complex`` beamformers at the last slot, or ``[N, T, N_t]`` at every
        slot. Implementations start with :meth:`check_batch`.
        """
        raise NotImplementedError

    def logits(self, batch, all_slots: bool = False) -> Tensor:
        raise ValueError(
            f"{type(self).__name__} outputs beamformers, not power logits: call "
            "beamformers(batch), and train it with mode='model_based'"
        )

    def forward(self, batch, all_slots: bool = False) -> Tensor:
        """:meth:`beamformers` of ``batch``."""
        return self.beamformers(batch, all_slots=all_slots)

    def check_batch(self, batch) -> None:
        """:meth:`PowerPolicy.check_batch`, and the complex channels of a MISO episode
        with this policy's :math:`N_t` (``edge_channel: [E, T, N_t]``,
        ``direct_channel: [N, T, N_t]``); raises ``ValueError`` naming the field.
        """
        super().check_batch(batch)
        num_nodes, num_slots = batch.x.shape[:2]
        for name, rows in (("edge_channel", batch.edge_index.size(1)), ("direct_channel", None)):
            value = getattr(batch, name, None)
            if value is None:
                raise ValueError(
                    f"batch must carry {name} (complex channels) for {type(self).__name__}: "
                    "simulate it with a multi-antenna scenario such as MISOD2D"
                )
            check_complex(f"batch.{name}", value, "[*, T, N_t]", 3)
            want = [num_nodes if rows is None else rows, num_slots, self.num_antennas]
            if value.size(-1) != self.num_antennas:
                raise ValueError(
                    f"batch.{name} must have N_t = {self.num_antennas} antennas (as "
                    f"{type(self).__name__} was built), got {value.size(-1)}"
                )
            check_shape(f"batch.{name}", value, want)
