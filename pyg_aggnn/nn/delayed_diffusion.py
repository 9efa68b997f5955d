"""The delayed diffusion of node states over a time-varying graph."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.typing import OptTensor
from torch_geometric.utils import spmm

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.nn import shift

__all__ = ["DelayedDiffusion"]


class DelayedDiffusion(MessagePassing):
    r"""The wireless aggregation sequence of the Aggregation GNN, from the
    "Learning Decentralized Wireless Resource Allocations with Graph Neural Networks"
    paper (Wang, Eisen and Ribeiro; eq. (10)-(12)).

    Node states travel one hop per slot, so what a node knows about nodes ``k`` hops
    away is ``k`` slots old. With the buffer :math:`\mathbf{Z}_t \in \mathbb{R}^{m \times K
    \times F}`, zero before the first slot, the layer runs

    .. math::
        \mathbf{Z}_t[:, 0] = \mathbf{X}(t), \qquad
        \mathbf{Z}_t[:, k] = \hat{\mathbf{S}}(t)\, \mathbf{Z}_{t-1}[:, k-1],
        \quad k = 1, \dots, K-1,

    so that :math:`\mathbf{Z}_t[:, k] = \mathbf{y}^{(k)}(t) = \hat{\mathbf{S}}(t)
    \hat{\mathbf{S}}(t-1) \cdots \hat{\mathbf{S}}(t-k+1)\, \mathbf{X}(t-k)`. Node-wise,
    with one neighbour exchange per slot:

    .. math::
        \mathbf{y}_i^{(k)}(t) = c_i(t) \sum_{j \in \mathcal{N}_i(t)} w_{ij}(t)\,
        \mathbf{y}_j^{(k-1)}(t-1),
        \qquad c_i(t) = \rho\Big(\sum_{j \in \mathcal{N}_i(t)} w_{ij}(t)\Big),

    where :math:`\mathbf{X}(t)` (``x[:, t]``) holds the node signals, :math:`S_{ij}(t)`
    the shift operator amplitudes (``edge_weight[:, t]``: channel gain of sender
    :math:`j` at receiver :math:`i`, zero unless :math:`j \in \mathcal{N}_i(t)`, i.e.
    above the threshold and active), :math:`w_{ij}(t) = \kappa(S_{ij}(t))` their
    compression (``compress``), :math:`\rho` the receiver scale (``normalization``) and
    :math:`\hat S_{ij}(t) = c_i(t) w_{ij}(t)` (see :mod:`pyg_aggnn.nn.shift`). The message
    is :math:`w_{ij}(t)\,\mathbf{y}_j^{(k-1)}(t-1)`, the aggregation a sum, the update the
    scaling by :math:`c_i(t)`: all of it uses only what receiver :math:`i` measures, which
    is what makes the layer executable node by node (:mod:`pyg_aggnn.decentralized`).

    **Numerical safety.** The defaults ``compress="log"`` (:math:`w = \log(1 + S/\eta)`,
    :math:`\eta` = the episode's threshold :math:`\eta_0`) and ``normalization="damped"``
    (:math:`c_i = 1/(1 + \sum_j w_{ij})`) make every row of :math:`\hat{\mathbf S}(t)`
    sum to less than one, so :math:`|\mathbf{y}^{(k)}| \le \max|\mathbf{X}|` for every
    ``K`` and every scale of the channel, while no entry collapses geometrically: a row
    holding one edge at the threshold still sums to :math:`\log 2 / (1 + \log 2) = 0.41`.
    ``compress="none", normalization="none"`` is the papers' raw recursion.

    **Cost.** One sparse-dense product per slot with a CSR adjacency whose row pointers
    are built once per call (edges are sorted by receiver) and whose values change per
    slot: :math:`O(K \sum_t E_t F)`; for the last slot only the last ``K`` slots are
    visited, and at the ``j``-th of them only the ``j`` hops that reach the decision
    slot are computed. Candidate pairs that are in none of the visited slots' graphs are
    dropped once (about half of them in a large ad-hoc network), and a leading column of
    ones in each product returns the row sums :math:`d_i(t)` the receiver scale needs.
    No dense :math:`m \times m` matrix is formed. When nothing needs gradients (inference,
    or training with data inputs) the products run as ``torch.addmm(..., out=...)`` into
    three buffers reused by every slot instead of through :meth:`propagate`, which would
    turn the CSR adjacency back into an edge list and allocate new outputs at every slot;
    at :math:`10^6` links that more than halves the decision time. Links numbered by place (as
    :class:`~pyg_aggnn.wireless.AdHoc` numbers large networks) keep the neighbours' rows
    of each product close in memory.

    Args:
        K (int, optional): length of the aggregation sequence (number of hops kept, the
            papers' :math:`K`). (default: :obj:`10`)
        compress (str, optional): gain compression, ``"log"`` or ``"none"``.
            (default: :obj:`"log"`)
        normalization (str, optional): receiver scale, ``"damped"``, ``"mean"`` or
            ``"none"``. (default: :obj:`"damped"`)
        sparse (bool, optional): use a ``torch.sparse_csr`` adjacency per slot and the
            fused product (``message_and_aggregate``); ``False`` uses gather and
            scatter of explicit messages, which is also what runs under
            :func:`torch.compile`. (default: :obj:`True`)
        **kwargs (optional): additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:** node signals :math:`(|\mathcal{V}|, T, F)`, edge indices
          :math:`(2, |\mathcal{E}|)` (sender, receiver), edge weights
          :math:`(|\mathcal{E}|, T)`, reference amplitude scalar or
          :math:`(|\mathcal{E}|)`
        - **output:** :math:`(|\mathcal{V}|, K, F)` at the last slot, or
          :math:`(|\mathcal{V}|, T, K, F)` with ``all_slots=True``

    Example:
        >>> from pyg_aggnn.wireless import AdHoc
        >>> episode = AdHoc(25).episode(12, seed=0)
        >>> conv = DelayedDiffusion(K=10)
        >>> conv(episode.x, episode.edge_index, episode.edge_weight, episode.eta0).shape
        torch.Size([25, 10, 1])
    """

    def __init__(
        self,
        K: int = 10,
        compress: str = "log",
        normalization: str = "damped",
        sparse: bool = True,
        **kwargs,
    ):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.K = check_positive_int("K", K)
        shift.check_modes(compress, normalization)
        self.compress = compress
        self.normalization = normalization
        self.sparse = bool(sparse)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor,
        reference: Tensor | float = 1.0,
        all_slots: bool = False,
    ) -> Tensor:
        """Run the delayed diffusion.

        Args:
            x: ``[N, T, F]`` node signals :math:`\\mathbf{X}(t)`.
            edge_index: ``[2, E]`` edges ``j -> i`` (row 0 sender, row 1 receiver);
                fastest when sorted by receiver.
            edge_weight: ``[E, T]`` shift operator amplitudes :math:`S_{ij}(t) \\ge 0`.
            reference: reference amplitude :math:`\\eta` of the compression, a float or
                ``[E]``, typically the threshold :math:`\\eta_0`; zero entries mean ``1``
                (default: ``1.0``).
            all_slots: return the sequence at every slot instead of the last one.
        """
        num_nodes, num_slots, num_features = x.shape
        if edge_weight.dim() != 2 or edge_weight.size(1) != num_slots:
            raise ValueError(
                f"edge_weight must have shape [E, {num_slots}], got {list(edge_weight.shape)}"
            )
        start = 0 if all_slots else max(0, num_slots - self.K)
        reference = _edge_reference(reference, x.dtype)
        edge_weight = edge_weight[:, start:]  # [E, S]: the visited slots
        # sparse tensors and data-dependent sizes do not trace: under torch.compile the
        # plain gather/scatter path runs on every candidate edge
        compiling = torch.compiler.is_compiling()
        if not compiling:
            edge_index, edge_weight, reference = _drop_unused_pairs(
                edge_index, edge_weight, reference
            )
        if compiling or not self.sparse:
            weight = self._slot_weights(edge_weight, reference, x.dtype)
            product = partial(self._gather_scatter_product, edge_index, weight)
            return self._diffuse(x, start, product, all_slots)
        crow, col, edge_weight, reference = _receiver_major(
            edge_index, edge_weight, reference, num_nodes
        )
        weight = self._slot_weights(edge_weight, reference, x.dtype)
        if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
            product = partial(self._propagate_product, crow, col, weight)
            return self._diffuse(x, start, product, all_slots)
        # Without autograd every slot writes into three flat buffers (two states and the
        # product) instead of allocating: at 10^6 links the allocations, and the page
        # faults of their fresh memory, cost more than the products themselves.
        buffers = x.new_empty(3, num_nodes * (self._lead + self.K * num_features))
        product = partial(self._addmm_product, crow, col, weight, buffers[2])
        return self._diffuse(x, start, product, all_slots, states=buffers[:2])

    @property
    def _lead(self) -> int:
        """Width of the leading column of ones in the state: 1 with a receiver scale."""
        return 0 if self.normalization == "none" else 1

    def _slot_weights(
        self, edge_weight: Tensor, reference: Tensor | float, dtype: torch.dtype
    ) -> Tensor:
        """``[S, E]`` compressed weights :math:`w_{ij}(t)`, one contiguous row per slot."""
        weight = edge_weight.new_empty(edge_weight.size(1), edge_weight.size(0), dtype=dtype)
        shift.compress_gain(edge_weight.t().to(dtype), reference, self.compress, out=weight)
        return weight

    def _gather_scatter_product(
        self, edge_index: Tensor, weight: Tensor, j: int, state: Tensor
    ) -> Tensor:
        """Slot ``j``'s product by explicit messages, gathered per edge and scattered to
        the receivers (``sparse=False``, and what traces under :func:`torch.compile`).
        """
        # propagate_type: (x: Tensor, edge_weight: OptTensor)
        return self.propagate(edge_index, x=state, edge_weight=weight[j])

    def _propagate_product(
        self, crow: Tensor, col: Tensor, weight: Tensor, j: int, state: Tensor
    ) -> Tensor:
        """Slot ``j``'s product through :meth:`propagate` on a CSR adjacency (the fused
        ``message_and_aggregate``), with autograd.
        """
        adjacency = shift.csr_adjacency(crow, col, weight[j], state.size(0))
        # propagate_type: (x: Tensor, edge_weight: OptTensor)
        return self.propagate(adjacency, x=state, edge_weight=None)

    def _addmm_product(
        self, crow: Tensor, col: Tensor, weight: Tensor, buffer: Tensor, j: int, state: Tensor
    ) -> Tensor:
        """Slot ``j``'s product on a CSR adjacency without autograd, by ``torch.addmm``
        into the flat ``buffer`` (the same product as :meth:`_propagate_product`).
        """
        adjacency = shift.csr_adjacency(crow, col, weight[j], state.size(0))
        moved = _flat_view(buffer, state.size(0), state.size(1))
        return torch.addmm(moved, adjacency, state, beta=0, out=moved)

    def _diffuse(
        self,
        x: Tensor,
        start: int,
        product: Callable[[int, Tensor], Tensor],
        all_slots: bool,
        states: Tensor | None = None,
    ) -> Tensor:
        """The recursion over the visited slots ``start, ..., T - 1``.

        ``product(j, state)`` returns, for slot ``t = start + j``, the sum over each
        receiver's edges of :math:`w_{ij}(t)` times the sender's state (before the scale
        :math:`c_i(t)`), of the state's shape. With ``states`` (two flat buffers, used in
        turn) the states are written into them and the receiver scale is applied in place
        on the product.
        """
        num_nodes, num_slots, F = x.shape
        # The state Z_{t-1}[:, :c] is kept flattened as [N, c * F]; with a receiver
        # normalisation a leading column of ones makes each product also return the row
        # sums d_i(t), so the scale c_i(t) costs no extra pass over the edges. Before the
        # last slot the state keeps only the K - 1 hops that travel on.
        lead, visited = self._lead, num_slots - start
        out = x.new_zeros(num_nodes, num_slots, self.K, F) if all_slots else None
        state = x.new_zeros(num_nodes, lead)
        for j in range(visited):
            t = start + j
            hops = min(j, self.K - 1)  # hops k = 1..hops arrive in this slot
            keep = hops if j == visited - 1 else max(0, min(hops, self.K - 2))  # kept of them
            parts = [x[:, t]] if lead == 0 else [x.new_ones(1, 1).expand(num_nodes, 1), x[:, t]]
            if hops > 0:
                moved = product(j, state)  # [N, lead + c F]
                moved_hops = moved[:, lead : lead + hops * F]
                if lead:
                    scale = shift.receiver_scale(moved[:, :1], self.normalization)
                    # in place on the product buffer, else a new tensor
                    moved_hops = (
                        moved_hops.mul_(scale) if states is not None else moved_hops * scale
                    )
                parts.append(moved_hops[:, : keep * F])
            if states is None:
                state = torch.cat(parts, dim=1)
            else:
                width = lead + (1 + keep) * F
                state = torch.cat(parts, dim=1, out=_flat_view(states[j % 2], num_nodes, width))
            if out is not None:
                out[:, t, 0] = x[:, t]
                if hops > 0:
                    out[:, t, 1 : hops + 1] = moved_hops.view(num_nodes, hops, F)
        if out is not None:
            return out
        filled = state[:, lead:].view(num_nodes, -1, F)
        result = x.new_empty(num_nodes, self.K, F)
        result[:, : filled.size(1)] = filled  # a copy: the buffers are freed on return
        result[:, filled.size(1) :] = 0.0
        return result

    def message(self, x_j: Tensor, edge_weight: OptTensor) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        return spmm(adj_t, x, reduce=self.aggr)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(K={self.K}, compress={self.compress!r}, "
            f"normalization={self.normalization!r})"
        )


def _edge_reference(reference: Tensor | float, dtype: torch.dtype) -> Tensor | float:
    """The compression's reference amplitude: a float, a 0-dim tensor or ``[1, E]``."""
    if isinstance(reference, Tensor) and reference.numel() == 1:
        reference = reference.reshape(())
    reference = shift.gain_reference(reference)
    if isinstance(reference, Tensor) and reference.dim() == 1:
        reference = reference.to(dtype).reshape(1, -1)  # broadcast over slots
    return reference


def _edges_of_reference(reference: Tensor | float, index: Tensor) -> Tensor | float:
    """The entries ``index`` of a per-edge ``[1, E]`` reference; a scalar as it is."""
    if isinstance(reference, Tensor) and reference.dim() == 2:
        return reference.index_select(1, index)
    return reference


def _drop_unused_pairs(
    edge_index: Tensor, edge_weight: Tensor, reference: Tensor | float
) -> tuple[Tensor, Tensor, Tensor | float]:
    """Drop the candidate pairs that are in none of the visited slots' graphs.

    They carry no message; dropping them once (about half of them in a large ad-hoc
    network) halves every product.
    """
    used = edge_weight.sum(dim=1) > 0  # amplitudes are non-negative
    if bool(used.all()):
        return edge_index, edge_weight, reference
    kept = torch.argwhere(used).squeeze(1)
    return (
        edge_index.index_select(1, kept),
        edge_weight.index_select(0, kept),
        _edges_of_reference(reference, kept),
    )


def _receiver_major(
    edge_index: Tensor, edge_weight: Tensor, reference: Tensor | float, num_nodes: int
) -> tuple[Tensor, Tensor, Tensor, Tensor | float]:
    """CSR row pointers and columns of the adjacency shared by every slot, and the edge
    amplitudes and reference in its (receiver-major) order.
    """
    crow, col, perm = shift.csr_layout(edge_index, num_nodes)
    if perm is not None:
        edge_weight = edge_weight[perm]
        reference = _edges_of_reference(reference, perm)
    if col.numel() < 2**31 - 1:  # the 32-bit kernels are faster
        crow, col = crow.int(), col.int()
    return crow, col, edge_weight, reference


def _flat_view(buffer: Tensor, rows: int, cols: int) -> Tensor:
    """The first ``rows * cols`` entries of a flat buffer as a contiguous ``[rows, cols]``."""
    return buffer[: rows * cols].view(rows, cols)
