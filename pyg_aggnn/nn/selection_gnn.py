"""The selection GNN (REGNN): graph filters on the current slot's graph."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import BatchNorm, TAGConv

from pyg_aggnn._validation import check_choice, check_non_negative, check_positive_int
from pyg_aggnn.nn import shift
from pyg_aggnn.nn.agg_gnn import NORMS, _per_layer
from pyg_aggnn.nn.snapshot import SlotGraph, SnapshotPolicy

__all__ = ["SelectionGNN"]


class SelectionGNN(SnapshotPolicy):
    r"""The centralized random edge GNN of the "Optimal Wireless Resource Allocation with
    Random Edge Graph Neural Networks" paper (Eisen and Ribeiro), the Agg-GNN papers'
    "selection GNN" baseline.

    Each layer is a graph filter on the *current* slot's shift operator,

    .. math::
        \mathbf{X}_l = \sigma\Big(\sum_{k=0}^{K_l - 1} \hat{\mathbf{S}}(t)^k
        \mathbf{X}_{l-1} \mathbf{W}_{l,k} + \mathbf{b}_l\Big),
        \qquad \mathbf{X}_0 = \text{node inputs at } t,

    i.e. :class:`torch_geometric.nn.conv.TAGConv` with ``K = K_l - 1`` hops and
    ``normalize=False``, whose edge weights are the compressed, receiver-normalised
    :math:`\hat S_{ij}(t)` (:mod:`pyg_aggnn.nn.shift`; without them a power of raw gains
    up to ``1e6`` overflows). :math:`\sigma` is ReLU between layers; the last layer has
    one output feature, the logit. Every slot's graph is handed to ``TAGConv`` as a
    ``torch.sparse_csr`` adjacency, so the hops use the fused sparse-dense product.

    Args:
        num_layers (int, optional): filter layers :math:`L`. (default: :obj:`10`)
        hidden_channels (int or list, optional): features of the hidden layers (a list
            of :math:`L - 1`; the last layer outputs one). (default: :obj:`1`)
        kernel_size (int or list, optional): taps :math:`K_l` per layer.
            (default: :obj:`10`)
        features, state_channels, compress, normalization, gain_scale: see
            :class:`~pyg_aggnn.nn.snapshot.SnapshotPolicy`.
        init_noise (float, optional): the 0-hop term starts at the mean of the inputs and
            every weight gets uniform noise of this relative size, so a deep
            single-feature ReLU stack is not dead at initialisation. (default: :obj:`0.1`)
        norm (str, optional): ``"batch_norm"`` normalises every layer's output over the
            nodes of the batch (:class:`torch_geometric.nn.norm.BatchNorm`, running
            statistics in evaluation) before its ReLU, the last layer's (the logit)
            included, or :obj:`None` (the papers'). (default: :obj:`None`)
        norm_logit (bool, optional): with ``norm``, normalise the logit too. Normalised,
            the logits' spread over the nodes of a batch is one learned scale, which
            Adam moves by about its learning rate per update, so the policy's confidence
            grows only linearly (ad-hoc ``m = 25``, seed 0: spread 1.4 to 3.8 and entropy
            0.57 to 0.34 per decision over 1,000 updates); left free, the logit's scale
            is the product of the last layer's weights and grows as fast as the
            Agg-GNN's (spread 7.0, entropy 0.12; docs/training.md). (default:
            :obj:`True`)

    **Why normalise.** Model-free training under a power budget first has to move the
    mean logit (all powers down, or up) to meet the budget. Without normalisation the
    inputs and the ReLU outputs are non-negative, so the fastest way down is to shrink
    every weight, and most of all those of the strongest links' largest features: on the
    ad-hoc ``m = 50`` network the unnormalised model ends, within 10 updates, at the same
    on-probability 0.5 for every link (entropy ``ln 2``, the sum rate of random power,
    0.098 against 0.207 for WMMSE), whatever the learning rate (0.01 or 0.001), the
    activation (leaky ReLU) or the initial mean power. With ``"batch_norm"`` the mean
    logit is the last layer's shift alone and the weights are left to tell links apart:
    0.204 (98.5 % of WMMSE) after the same 200 updates. Every shipped configuration and
    experiment uses ``"batch_norm"``.

    Shapes:
        - **input:** a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`
        - **output:** logits :math:`(N)`, or :math:`(N, T)` with ``all_slots=True``
    """

    def __init__(
        self,
        num_layers: int = 10,
        hidden_channels: int | Sequence[int] = 1,
        kernel_size: int | Sequence[int] = 10,
        features: Sequence[str] = ("state", "direct_gain"),
        state_channels: int = 1,
        compress: str = "log",
        normalization: str = "damped",
        gain_scale: float | None = None,
        init_noise: float = 0.1,
        norm: str | None = None,
        norm_logit: bool = True,
    ):
        super().__init__(features, state_channels, (), compress, normalization, gain_scale)
        num_layers = check_positive_int("num_layers", num_layers)
        hidden = _per_layer("hidden_channels", hidden_channels, num_layers - 1)
        self.kernel_size = _per_layer("kernel_size", kernel_size, num_layers)
        self.init_noise = check_non_negative("init_noise", init_noise)
        self.norm = None if norm is None else check_choice("norm", norm, NORMS)
        if not isinstance(norm_logit, bool):
            raise ValueError(f"norm_logit must be a bool, got {norm_logit!r}")
        self.norm_logit = norm_logit
        channels = [self.in_channels, *hidden, 1]
        self.convs = nn.ModuleList(
            TAGConv(c_in, c_out, K=taps - 1, normalize=False)
            for c_in, c_out, taps in zip(channels[:-1], channels[1:], self.kernel_size)
        )
        self.norms = (
            None
            if self.norm is None
            else nn.ModuleList(
                BatchNorm(c, allow_single_element=True)
                for c in (channels[1:] if norm_logit else channels[1:-1])
            )
        )
        self.reset_parameters()

    @classmethod
    def paper(cls, **kwargs) -> SelectionGNN:
        """The papers' selection GNN: 10 layers, 1 feature, 10 taps."""
        return cls(**{"num_layers": 10, "hidden_channels": 1, "kernel_size": 10, **kwargs})

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()
            with torch.no_grad():
                for hop, lin in enumerate(conv.lins):
                    c_out, c_in = lin.weight.shape
                    bound = self.init_noise / math.sqrt(c_in * len(conv.lins))
                    lin.weight.uniform_(-bound, bound)
                    if hop == 0:
                        lin.weight += 1.0 / c_in
        for norm in self.norms or ():
            norm.reset_parameters()

    def snapshot_logits(self, graph: SlotGraph) -> Tensor:
        if torch.compiler.is_compiling():  # sparse tensors do not trace
            adj, weight = graph.edge_index, graph.edge_weight
        else:
            crow, col, perm = shift.csr_layout(graph.edge_index, graph.num_nodes)
            values = graph.edge_weight if perm is None else graph.edge_weight[perm]
            adj, weight = shift.csr_adjacency(crow, col, values, graph.num_nodes), None
        hidden = graph.x
        for layer, conv in enumerate(self.convs):
            hidden = conv(hidden, adj, weight)
            if self.norms is not None and layer < len(self.norms):
                hidden = self.norms[layer](hidden)
            if layer < len(self.convs) - 1:
                hidden = F.relu(hidden)
        return hidden.squeeze(-1)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(layers={len(self.convs)}, "
            f"kernel_size={self.kernel_size}, features={list(self.features)}, "
            f"normalization={self.normalization!r}"
            + ("" if self.norm is None else f", norm={self.norm!r}")
            + ("" if self.norm is None or self.norm_logit else ", norm_logit=False")
            + ")"
        )
