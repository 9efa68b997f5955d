"""The message-passing layer of the wireless channel graph convolution network (WCGCN)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.nn import MLP, MessagePassing

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.nn.max_aggregation import max_aggregate

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
        fused (bool, optional): compute the layer without per-edge concatenations, in
            blocks of edges (see below); ``False`` runs PyG's ``propagate`` with
            :meth:`message` and :meth:`update`, the same function to float rounding.
            (default: :obj:`True`)
        fused_training (bool, optional): with ``fused``, also compute the layer under
            autograd without the concatenation: the same function and gradients to
            float rounding, less time for a training step; ``False`` keeps PyG's
            ``propagate`` in training (its numbers bit for bit). In both, the maximum
            is :func:`~pyg_aggnn.nn.max_aggregation.max_aggregate`, PyG's in value and
            gradient with a leaner backward pass. (default: :obj:`False`)
        **kwargs (optional): additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.

    **Fused computation.** The first layer of :math:`\mathrm{MLP}_1` is affine, so
    :math:`\mathbf{W}[\mathbf{x}_j \,\|\, \mathbf{e}_{ji}] + \mathbf{b} =
    (\mathbf{X}\mathbf{W}_x^\top + \mathbf{b})_j + \mathbf{e}_{ji}\mathbf{W}_e^\top`:
    the node term is computed once per node and gathered, and no ``[E, F + D]``
    concatenation is formed. :math:`\mathrm{MLP}_1` and the maximum run over blocks of
    :attr:`block_edges` edges without autograd (the temporaries stay in the cache; the
    maximum starts from zero, exact because the messages end with a ReLU). With autograd
    (training) the layer runs PyG's ``propagate``, whose gradients it then has, unless
    ``fused_training``.

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
        fused: bool = True,
        fused_training: bool = False,
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
        self.fused = bool(fused)
        self.fused_training = bool(fused_training)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        self.mlp1.reset_parameters()
        self.mlp2.reset_parameters()

    #: Edges per block of the fused computation without autograd (32 channels: 1 MB per
    #: temporary, in the cache; 2^12 to 2^14 measured fastest on 2 cores at m = 10^5).
    block_edges = 1 << 13

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        autograd = torch.is_grad_enabled() and self._needs_grad(x, edge_attr)
        if not self.fused or (autograd and not self.fused_training):
            # propagate_type: (x: Tensor, edge_attr: Tensor)
            return self.propagate(edge_index, x=x, edge_attr=edge_attr)
        first = self.mlp1.lins[0]
        node_term = torch.addmm(first.bias, x, first.weight[:, : self.in_channels].t())
        edge_weight = first.weight[:, self.in_channels :].t()  # [D, C]
        if autograd:
            pooled = self._pooled_with_grad(node_term, edge_attr, edge_weight, edge_index)
        else:
            pooled = self._pooled_messages(node_term, edge_attr, edge_weight, edge_index, x.size(0))
        return self.mlp2(torch.cat([x, pooled], dim=-1))

    def _pooled_with_grad(
        self, node_term: Tensor, edge_attr: Tensor, edge_weight: Tensor, edge_index: Tensor
    ) -> Tensor:
        """``max_j MLP1([x_j, e_ji])`` per receiver under autograd (``fused_training``)."""
        src, dst = edge_index
        num_nodes = node_term.size(0)
        hidden = self._messages(node_term.index_select(0, src), edge_attr, edge_weight)
        return max_aggregate(hidden, dst, num_nodes)

    def _needs_grad(self, x: Tensor, edge_attr: Tensor) -> bool:
        return (
            x.requires_grad
            or (edge_attr is not None and edge_attr.requires_grad)
            or any(p.requires_grad for p in self.parameters())
        )

    def _messages(self, node_term: Tensor, edge_attr: Tensor, edge_weight: Tensor) -> Tensor:
        """``MLP1([x_j, e_ji])`` of edges whose senders' node terms are ``node_term``."""
        hidden = node_term
        if self.edge_channels:
            hidden = torch.addmm(hidden, edge_attr, edge_weight)
        hidden = hidden.relu_()
        for lin in self.mlp1.lins[1:]:
            hidden = torch.addmm(lin.bias, hidden, lin.weight.t()).relu_()
        return hidden

    def _pooled_messages(
        self,
        node_term: Tensor,
        edge_attr: Tensor,
        edge_weight: Tensor,
        edge_index: Tensor,
        num_nodes: int,
    ) -> Tensor:
        """``max_j MLP1([x_j, e_ji])`` per receiver (zero without neighbours)."""
        src, dst = edge_index
        channels = self.message_channels[-1]
        out = node_term.new_zeros(num_nodes, channels)
        # receiver-sorted edges (as slot graphs are): a block's receivers are a range, and
        # the scatter touches only those rows (a scatter into all of ``out`` costs O(N));
        # on a GPU one block: no cache to fit, and every block's range would sync the host
        on_cpu = node_term.device.type == "cpu"
        size = self.block_edges if on_cpu else max(src.numel(), 1)
        ranges = on_cpu and dst.numel() > 1 and bool((dst[1:] >= dst[:-1]).all())
        with torch.no_grad():
            for start in range(0, src.numel(), size):
                block = slice(start, start + size)
                gathered = node_term.index_select(0, src[block])
                hidden = self._messages(gathered, edge_attr[block], edge_weight)
                receivers, target = dst[block], out
                if ranges:
                    first = int(receivers[0])
                    target = out[first : int(receivers[-1]) + 1]
                    receivers = receivers - first
                index = receivers[:, None].expand(-1, channels)
                target.scatter_reduce_(0, index, hidden, "amax", include_self=True)
        return out

    def message(self, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        return self.mlp1(torch.cat([x_j, edge_attr], dim=-1))

    def aggregate(
        self, inputs: Tensor, index: Tensor, ptr: Tensor | None = None, dim_size: int | None = None
    ) -> Tensor:
        # the maximum of PyG's "max" aggregation in value and gradient, with a leaner
        # backward pass (pyg_aggnn.nn.max_aggregation); any other aggregation is PyG's
        if self.aggr != "max" or dim_size is None:
            return super().aggregate(inputs, index, ptr, dim_size)
        return max_aggregate(inputs, index, dim_size)

    def update(self, inputs: Tensor, x: Tensor) -> Tensor:
        return self.mlp2(torch.cat([x, inputs], dim=-1))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"edge_channels={self.edge_channels}, mlp1={[self.in_channels + self.edge_channels, *self.message_channels]}, "
            f"mlp2={[self.in_channels + self.message_channels[-1], *self.update_channels]})"
        )
