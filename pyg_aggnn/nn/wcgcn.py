"""The WCGCN-style message-passing GNN of Shen et al. as an allocation policy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pyg_aggnn._validation import check_in_range, check_positive_int
from pyg_aggnn.nn.snapshot import SlotGraph, SnapshotPolicy
from pyg_aggnn.nn.wcgcn_conv import WCGCNConv

__all__ = ["WCGCN"]


class WCGCN(SnapshotPolicy):
    r"""The wireless channel graph convolution network (centralized) of the "Graph Neural
    Networks for Scalable Radio Resource Management" paper (Shen et al.).

    Node :math:`i` carries its static inputs :math:`\mathbf{u}_i` (default: the
    compressed direct gain and the priority weight :math:`\alpha_i`) and its current power
    estimate :math:`q_i \in (0, 1)`. One :class:`~pyg_aggnn.nn.WCGCNConv`, with the same
    weights, is applied ``num_iterations`` times on the decision slot's graph (edges
    :math:`j \to i` with :math:`j \in \mathcal{N}_i(t)`, no self loops):

    .. math::
        z_i^{(r)} = \mathrm{MLP}_2\Big(\Big[\mathbf{u}_i, q_i^{(r-1)} \,\Big\|\,
        \max_{j \in \mathcal{N}_i(t)} \mathrm{MLP}_1([\mathbf{u}_j, q_j^{(r-1)} \,\|\,
        \mathbf{e}_{ji}])\Big]\Big), \qquad q_i^{(r)} = \sigma(z_i^{(r)}),

    with :math:`q_i^{(0)}` = ``initial_power`` and edge features
    :math:`\mathbf{e}_{ji} = [\log(1 + |h_{ij}|/\eta), \log(1 + |h_{ji}|/\eta)]` by default
    (compressed, so that gains of any scale fit the MLPs). The logit is
    :math:`z_i^{(R)}`. Paper sizes (the defaults): :math:`\mathrm{MLP}_1` = {in, 32, 32},
    :math:`\mathrm{MLP}_2` = {32 + in, 16, 1}, :math:`R = 3`.

    Args:
        features (list of str, optional): static node inputs.
            (default: :obj:`("direct_gain", "link_weight")`)
        edge_features (list of str, optional): edge inputs from
            :data:`~pyg_aggnn.nn.snapshot.EDGE_FEATURES`.
            (default: :obj:`("gain", "reverse_gain")`)
        message_channels (list of int, optional): :math:`\mathrm{MLP}_1` sizes after the
            input. (default: :obj:`(32, 32)`)
        update_channels (list of int, optional): :math:`\mathrm{MLP}_2` hidden sizes (the
            output is one logit). (default: :obj:`(16,)`)
        num_iterations (int, optional): :math:`R`. (default: :obj:`3`)
        initial_power (float, optional): :math:`q^{(0)} \in [0, 1]`. (default: :obj:`1.0`)
        state_channels, compress, normalization, gain_scale: see
            :class:`~pyg_aggnn.nn.snapshot.SnapshotPolicy`.
        fused_training (bool, optional): train through the fused layer instead of PyG's
            ``propagate`` (:class:`~pyg_aggnn.nn.WCGCNConv`; the same function and
            gradients to float rounding, faster on complete graphs). (default:
            :obj:`False`: the shipped configs' numbers were measured with ``propagate``)

    Shapes:
        - **input:** a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`
        - **output:** logits :math:`(N)`, or :math:`(N, T)` with ``all_slots=True``
    """

    uses_shift_weights = False  # the edge inputs are its edge_features only

    def __init__(
        self,
        features: Sequence[str] = ("direct_gain", "link_weight"),
        edge_features: Sequence[str] = ("gain", "reverse_gain"),
        message_channels: Sequence[int] = (32, 32),
        update_channels: Sequence[int] = (16,),
        num_iterations: int = 3,
        initial_power: float = 1.0,
        state_channels: int = 1,
        compress: str = "log",
        normalization: str = "damped",
        gain_scale: float | None = None,
        fused_training: bool = False,
    ):
        super().__init__(
            features,
            state_channels,
            edge_features,
            compress,
            normalization,
            gain_scale,
            self_loops=False,
        )
        if len(self.edge_features) == 0:
            raise ValueError("edge_features must name at least one edge input, got []")
        self.num_iterations = check_positive_int("num_iterations", num_iterations)
        self.initial_power = check_in_range("initial_power", initial_power, 0.0, 1.0)
        self.conv = WCGCNConv(
            self.in_channels + 1,
            len(self.edge_features),
            message_channels=message_channels,
            update_channels=[*update_channels, 1],
            fused_training=fused_training,
        )

    @classmethod
    def paper(cls, **kwargs) -> WCGCN:
        """The paper's sizes: MLP1 {in, 32, 32}, MLP2 {32 + in, 16, 1}, 3 iterations."""
        return cls(
            **{
                "message_channels": (32, 32),
                "update_channels": (16,),
                "num_iterations": 3,
                **kwargs,
            }
        )

    def reset_parameters(self):
        self.conv.reset_parameters()

    def snapshot_logits(self, graph: SlotGraph) -> Tensor:
        power = graph.x.new_full((graph.num_nodes, 1), self.initial_power)
        logit = power
        for _ in range(self.num_iterations):
            logit = self.conv(torch.cat([graph.x, power], dim=1), graph.edge_index, graph.edge_attr)
            power = torch.sigmoid(logit)
        return logit.squeeze(-1)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(features={list(self.features)}, "
            f"edge_features={list(self.edge_features)}, iterations={self.num_iterations}, "
            f"conv={self.conv})"
        )
