"""The message-passing layer of the wireless channel graph convolution network (WCGCN)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.nn import MLP, MessagePassing

from pyg_aggnn._validation import check_positive_int

__all__ = ["WCGCNConv"]


class WCGCNConv(MessagePassing):
    r"""The interference graph convolution of the "Graph Neural Networks for Scalable
    Radio Resource Management: Architecture Design and Theoretical Analysis" paper
    (Shen, Shi, Zhang and Letaief, eq. (14)):

    .. math::
        \mathbf{x}_i' = \mathrm{MLP}_2\Big(\Big[\mathbf{x}_i \,\Big\|\,
        \max_{j \in \mathcal{N}(i)} \mathrm{MLP}_1\big([\mathbf{x}_j \,\|\,
        \mathbf{e}_{ji}]\big)\Big]\Big)

    in matrix form :math:`\mathbf{X}' = \mathrm{MLP}_2([\mathbf{X} \,\|\,
    \mathbf{A}_{\max} \mathrm{MLP}_1([\mathbf{X}_{\text{src}} \,\|\, \mathbf{E}])])`, where
    :math:`\mathbf{A}_{\max}` takes the element-wise maximum over each node's incoming
    edges. :math:`\mathbf{x}_j` are the sender's features, :math:`\mathbf{e}_{ji}` the
    features of edge :math:`j \to i` (e.g. the compressed gains :math:`|h_{ij}|,
    |h_{ji}|`); the message is :math:`\mathrm{MLP}_1`, the aggregation a maximum (zero for
    a node without neighbours), the update :math:`\mathrm{MLP}_2`. Both are
    :class:`torch_geometric.nn.MLP` without normalisation layers; :math:`\mathrm{MLP}_1`
    ends with a ReLU, :math:`\mathrm{MLP}_2` with a plain linear layer.

    Args:
        in_channels (int): node features :math:`F`.
        edge_channels (int): edge features :math:`D`.
        message_channels (list of int, optional): hidden and output sizes of
            :math:`\mathrm{MLP}_1` (input :math:`F + D`). (default: :obj:`(32, 32)`)
        update_channels (list of int, optional): hidden and output sizes of
            :math:`\mathrm{MLP}_2` (input :math:`F + ` last message size).
            (default: :obj:`(16, 1)`)
        **kwargs (optional): additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F)`, edge indices
          :math:`(2, |\mathcal{E}|)`, edge features :math:`(|\mathcal{E}|, D)`
        - **output:** node features :math:`(|\mathcal{V}|, F')` with :math:`F'` the last
          entry of ``update_channels``
    """

    def __init__(
        self,
        in_channels: int,
        edge_channels: int,
        message_channels: Sequence[int] = (32, 32),
        update_channels: Sequence[int] = (16, 1),
        **kwargs,
    ):
        kwargs.setdefault("aggr", "max")
        super().__init__(**kwargs)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.edge_channels = check_positive_int("edge_channels", edge_channels, minimum=0)
        if len(message_channels) == 0 or len(update_channels) == 0:
            raise ValueError(
                "message_channels and update_channels must each list at least one size, got "
                f"{list(message_channels)!r} and {list(update_channels)!r}"
            )
        self.message_channels = [
            check_positive_int("message_channels", c) for c in message_channels
        ]
        self.update_channels = [check_positive_int("update_channels", c) for c in update_channels]
        self.out_channels = self.update_channels[-1]
        self.mlp1 = MLP(
            [in_channels + edge_channels, *self.message_channels], norm=None, plain_last=False
        )
        self.mlp2 = MLP([in_channels + self.message_channels[-1], *self.update_channels], norm=None)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        self.mlp1.reset_parameters()
        self.mlp2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        # propagate_type: (x: Tensor, edge_attr: Tensor)
        return self.propagate(edge_index, x=x, edge_attr=edge_attr)

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        return self.mlp1(torch.cat([x_j, edge_attr], dim=-1))

    def update(self, inputs: Tensor, x: Tensor) -> Tensor:
        return self.mlp2(torch.cat([x, inputs], dim=-1))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"edge_channels={self.edge_channels}, mlp1={[self.in_channels + self.edge_channels, *self.message_channels]}, "
            f"mlp2={[self.in_channels + self.message_channels[-1], *self.update_channels]})"
        )
