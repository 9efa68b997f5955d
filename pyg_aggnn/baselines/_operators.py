r"""Interference sums of many networks and slots at once, dense or sparse.

Iterative baselines need the two products of the cross-gain matrix
:math:`G_{ij} = |h_{ij}|^2` (``i != j``) of every network and slot with a node vector:

.. math::
    (G x)_i = \sum_{j \ne i} |h_{ij}|^2 x_j, \qquad
    (G^T x)_i = \sum_{j \ne i} |h_{ji}|^2 x_j.

Two interchangeable operators hold them. :class:`DenseOperator` stores ``[B * s, m, m]``
matrices (all ``B`` networks of one batch have the same size ``m``, ``s`` slots) and
uses batched vector-matrix products: the fast path for small, dense networks.
:class:`SparseOperator` stores one block-diagonal CSR matrix over every (node, slot)
pair, so the cost is proportional to the number of non-zero gains and nothing of size
``m x m`` is ever formed. Both keep node vectors in their own layout (see
:meth:`to_layout`) so that the iteration itself is written once.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch_geometric.utils import scatter

__all__: list[str] = []

# Above this many matrix entries (stored twice, G and its transpose) the automatic
# choice never builds dense matrices.
_DENSE_MAX_ENTRIES = 2**26
# Dense storage pays off when at least this fraction of the m x m entries is non-zero.
_DENSE_MIN_DENSITY = 0.4
# Matrices G iterated on together by the dense path (both products read them): 8 MB
# stay in the last-level CPU cache.
_BLOCK_BYTES = 2**23


class DenseBlock:
    """Dense products of a run of independent problems; node layout ``[b, 1, m]``.

    Both products are row vector times matrix, :math:`x^T G^T` and :math:`x^T G`: batched
    BLAS runs that form several times faster than matrix times column vector. :math:`G^T`
    is a transposed view of :math:`G` (BLAS reads it as such, as fast as a contiguous
    copy), so no second copy of the matrices is made: on a large batch, allocating and
    first touching it cost more than the first iterations.
    """

    def __init__(self, gain: Tensor, gain_t: Tensor):
        self.gain = gain  # [b, m, m], G of each problem
        self.gain_t = gain_t  # [b, m, m], G^T (a view)

    def cross(self, x: Tensor) -> Tensor:
        """:math:`G x`, as the row vector :math:`x^T G^T`."""
        return torch.bmm(x, self.gain_t)

    def cross_t(self, x: Tensor) -> Tensor:
        """:math:`G^T x`, as the row vector :math:`x^T G`."""
        return torch.bmm(x, self.gain)

    def graph_sum(self, x: Tensor) -> Tensor:
        return x.sum(dim=-1, keepdim=True)

    def graph_max(self, x: Tensor) -> Tensor:
        return x.amax(dim=-1, keepdim=True)

    def expand(self, value: Tensor) -> Tensor:
        return value  # broadcasts


def _complete_victim_major(src: Tensor, dst: Tensor, num_graphs: int, size: int) -> bool:
    """Whether the pairs are every ``(j, i)`` of every network, ``i``-major then ``j``.

    Comparisons with the expected pattern (expanded views, no temporaries): no index
    arithmetic on the pairs.
    """
    B, m = num_graphs, size
    if src.numel() != B * m * m:
        return False
    nodes = torch.arange(B * m, device=src.device)
    if not torch.equal(dst.view(B * m, m), nodes[:, None].expand(B * m, m)):
        return False
    pattern = nodes.view(B, 1, m).expand(B, m, m)  # sender j of victim i: the j-th node
    return torch.equal(src.view(B, m, m), pattern)


class DenseOperator(DenseBlock):
    """Batched dense products; node layout ``[B * s, 1, m]``, graph layout ``[B * s, 1, 1]``.

    Every (network, slot) problem is independent, so :meth:`blocks` cuts them into runs
    whose matrices stay in the CPU cache for all iterations: streaming every matrix from
    memory twice per iteration costs several times more.
    """

    def __init__(self, src, dst, gain_sq, batch, num_graphs: int, size: int, num_slots: int):
        B, m, s = num_graphs, size, num_slots
        self.shape = (B, m, s)
        if _complete_victim_major(src, dst, B, m):
            dense = gain_sq  # every pair, stored victim-major: already the dense layout
        else:
            # Position of every pair in [B * m * m] (no integer division: slow on CPU).
            offset = batch[dst] * m  # first node of the victim's network
            if bool((batch[src] * m != offset).any()):
                raise ValueError("edge_index must join links of the same network")
            flat = dst * m
            flat += src
            flat -= offset
            dense = gain_sq.new_zeros(B * m * m, s).index_add_(0, flat, gain_sq)
        dense = dense.reshape(B, m, m, s)
        dense.diagonal(dim1=1, dim2=2).zero_()  # the direct link is not interference
        gain = dense.permute(0, 3, 1, 2).reshape(B * s, m, m)
        super().__init__(gain, gain.transpose(1, 2))

    def blocks(self) -> list[tuple[slice, DenseBlock]]:
        """Runs of about ``_BLOCK_BYTES`` of matrices (one run on GPUs)."""
        count = self.gain.size(0)
        if self.gain.is_cuda:
            return [(slice(0, count), self)]
        per_block = max(1, _BLOCK_BYTES // (self.gain[0].numel() * self.gain.element_size()))
        return [
            (
                slice(a, a + per_block),
                DenseBlock(self.gain[a : a + per_block], self.gain_t[a : a + per_block]),
            )
            for a in range(0, count, per_block)
        ]

    def to_layout(self, value: Tensor) -> Tensor:
        """``[N, s]`` -> ``[B * s, 1, m]``."""
        B, m, s = self.shape
        return value.reshape(B, m, s).permute(0, 2, 1).reshape(B * s, 1, m)

    def from_layout(self, value: Tensor) -> Tensor:
        """``[B * s, 1, m]`` -> ``[N, s]``."""
        B, m, s = self.shape
        return value.reshape(B, s, m).permute(0, 2, 1).reshape(B * m, s)

    def graph_layout(self, value: Tensor) -> Tensor:
        """Per-network ``[B]`` or ``[B, s]`` values -> ``[B * s, 1, 1]``."""
        B, _, s = self.shape
        return value.reshape(B, -1).expand(B, s).reshape(B * s, 1, 1)


def _block_csr(rows: Tensor, cols: Tensor, values: Tensor, size: int) -> Tensor:
    indices = torch.stack([rows, cols])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        coo = torch.sparse_coo_tensor(indices, values, (size, size), check_invariants=False)
        return coo.coalesce().to_sparse_csr()


class SparseOperator:
    """Block-diagonal CSR products; node layout ``[N, s]``, graph layout ``[B, s]``."""

    def __init__(self, src, dst, gain_sq, batch: Tensor, num_graphs: int, num_slots: int):
        N, s = batch.size(0), num_slots
        self.shape = (N, s)
        self.batch, self.num_graphs = batch, num_graphs
        keep = gain_sq != 0  # [E, s]; absent pairs cost nothing
        edge, k = keep.nonzero(as_tuple=True)
        rows, cols = dst[edge] * s + k, src[edge] * s + k
        values = gain_sq[edge, k]
        self.gain = _block_csr(rows, cols, values, N * s)
        self.gain_t = _block_csr(cols, rows, values, N * s)

    def blocks(self) -> list[tuple[slice, SparseOperator]]:
        """One block: the networks share one matrix."""
        return [(slice(None), self)]

    def to_layout(self, value: Tensor) -> Tensor:
        return value.contiguous()

    def from_layout(self, value: Tensor) -> Tensor:
        return value

    def graph_layout(self, value: Tensor) -> Tensor:
        """Per-network ``[B]`` or ``[B, s]`` values -> ``[B, s]``."""
        return value.reshape(self.num_graphs, -1).expand(self.num_graphs, self.shape[1])

    def cross(self, x: Tensor) -> Tensor:
        return (self.gain @ x.reshape(-1, 1)).reshape(self.shape)

    def cross_t(self, x: Tensor) -> Tensor:
        return (self.gain_t @ x.reshape(-1, 1)).reshape(self.shape)

    def graph_sum(self, x: Tensor) -> Tensor:
        return scatter(x, self.batch, dim=0, dim_size=self.num_graphs, reduce="sum")

    def graph_max(self, x: Tensor) -> Tensor:
        return scatter(x, self.batch, dim=0, dim_size=self.num_graphs, reduce="max")

    def expand(self, value: Tensor) -> Tensor:
        return value[self.batch]


def build_operator(
    edge_index: Tensor, gain_sq: Tensor, batch: Tensor, num_graphs: int, path: str
) -> DenseOperator | SparseOperator:
    """Pick and build the operator for squared gains ``gain_sq [E, s]``.

    Self loops are dropped (the direct link is not interference). ``gain_sq`` must be a
    fresh tensor: the dense path may take it over and modify it in place.

    ``path="auto"`` takes the dense one when every network of the batch has the same size
    ``m``, the nodes are stored network after network, the matrices fit in memory and
    at least 40% of their entries are non-zero; ``"dense"`` insists on it (and raises
    ``ValueError`` if the batch does not allow it), ``"sparse"`` never uses it.
    """
    src, dst = edge_index
    num_nodes, num_slots = batch.size(0), gain_sq.size(1)
    size = num_nodes // max(num_graphs, 1)
    layout_ok = size * num_graphs == num_nodes and bool(
        torch.equal(batch, torch.arange(num_graphs, device=batch.device).repeat_interleave(size))
    )
    entries = num_graphs * num_slots * size * size
    if path == "dense" and not layout_ok:
        raise ValueError(
            "path='dense' needs networks of equal size stored one after the other, got sizes "
            f"{torch.bincount(batch, minlength=num_graphs).tolist()}"
        )
    dense = path == "dense" or (
        path == "auto"
        and layout_ok
        and entries <= _DENSE_MAX_ENTRIES
        and int(torch.count_nonzero(gain_sq)) >= _DENSE_MIN_DENSITY * entries
    )
    if dense:
        return DenseOperator(src, dst, gain_sq, batch, num_graphs, size, num_slots)
    cross = src != dst
    return SparseOperator(src[cross], dst[cross], gain_sq[cross], batch, num_graphs, num_slots)
