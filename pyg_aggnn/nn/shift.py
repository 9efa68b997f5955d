r"""The graph shift operator as the models see it, defined once.

Raw channel amplitudes span many orders of magnitude (``1e-3`` at the graph threshold of
an ad-hoc network, ``1e6`` for a receiver ``1e-3`` away from its transmitter, ``1e2 ..
1e5`` in the D2D scenario), so a product of ``K = 10`` raw shift operators under- or
overflows. Every model therefore sees the shift operator through two *local* maps:

1. **compression** of every amplitude relative to a reference gain :math:`\eta`
   (the episode's threshold :math:`\eta_0`, or ``1`` where it is ``0``):

   .. math::
       w_{ij}(t) = \log\!\left(1 + \frac{S_{ij}(t)}{\eta}\right)
       \qquad (\texttt{compress="log"}),

   which maps the threshold to :math:`\log 2` and ``1e6`` to about ``20``, keeps zero at
   zero (no edge) and is monotone, so the order of the gains survives;
2. **receiver normalisation**: receiver :math:`i` scales its incoming weights by a number
   computed only from its *own* incoming weights at that slot, :math:`d_i(t) = \sum_j
   w_{ij}(t)`:

   .. math::
       \hat S_{ij}(t) = c_i(t)\, w_{ij}(t),\qquad
       c_i(t) = \begin{cases}
           1 & \texttt{"none"} \\
           1 / d_i(t) & \texttt{"mean"} \ (0 \text{ if } d_i(t) = 0) \\
           1 / (1 + d_i(t)) & \texttt{"damped"}
       \end{cases}

   ``"damped"`` makes every row sum of :math:`\hat S(t)` lie in :math:`[0, 1)`, so
   :math:`\|\hat S(t) \cdots \hat S(t-k+1) x\|_\infty \le \|x\|_\infty` for every ``k``
   and every network, while :math:`d_i / (1 + d_i)` still tells a crowded receiver from
   a quiet one. ``"mean"`` (a random walk) keeps only the relative weights: a constant
   node signal stays constant.

Both maps use nothing but what receiver :math:`i` measures itself, so the decentralized
protocol (:mod:`pyg_aggnn.decentralized`) applies exactly the same numbers.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from pyg_aggnn._validation import check_choice
from pyg_aggnn.data.batching import edge_threshold, node_threshold

__all__ = [
    "COMPRESSIONS",
    "NORMALIZATIONS",
    "gain_reference",
    "node_reference",
    "edge_reference",
    "compress_gain",
    "receiver_scale",
    "check_modes",
    "normalized_shift",
    "csr_layout",
    "csr_adjacency",
]

COMPRESSIONS = ("none", "log")
NORMALIZATIONS = ("none", "mean", "damped")


def gain_reference(eta0: Tensor | float, gain_scale: float | None = None) -> Tensor | float:
    """Reference amplitude :math:`\\eta` of the compression.

    ``gain_scale`` if given, otherwise ``eta0`` with ``1`` where ``eta0 == 0`` (a
    complete graph, e.g. the Gaussian interference channel, whose gains are near one).
    """
    if gain_scale is not None:
        return float(gain_scale)
    if isinstance(eta0, Tensor):
        return torch.where(eta0 > 0, eta0, torch.ones_like(eta0))
    return float(eta0) if eta0 > 0 else 1.0


def node_reference(batch, gain_scale: float | None = None) -> Tensor:
    """Per-link reference amplitude ``[N]`` of a (batched) episode, see :func:`gain_reference`."""
    reference = gain_reference(node_threshold(batch), gain_scale)
    if isinstance(reference, float):
        return batch.x.new_full((batch.x.size(0),), reference)
    return reference.to(batch.x.dtype)


def edge_reference(batch, gain_scale: float | None = None) -> Tensor:
    """Reference amplitude of every edge's receiver: ``[E]``, or a 0-dim tensor when
    every network of the batch has the same one (no per-edge pass over a large graph).
    """
    eta0 = batch.eta0.reshape(-1)
    if gain_scale is not None or bool((eta0 == eta0[:1]).all()):
        reference = gain_reference(eta0[0], gain_scale)
        return torch.as_tensor(reference, dtype=batch.x.dtype, device=batch.x.device)
    return gain_reference(edge_threshold(batch), gain_scale).to(batch.x.dtype)


def compress_gain(
    gain: Tensor, reference: Tensor | float, mode: str = "log", out: Tensor | None = None
) -> Tensor:
    """Compress amplitudes: ``"log"`` gives ``log1p(gain / reference)``, ``"none"`` ``gain``.

    Args:
        gain: ``[E, *S]`` non-negative amplitudes (zero: no edge).
        reference: scalar or ``[E]`` reference amplitude :math:`\\eta > 0` (a ``[E]``
            tensor is broadcast along the first axis; pass another shape to broadcast
            differently).
        mode: one of :data:`COMPRESSIONS` (default: ``"log"``).
        out: optional output tensor of ``gain``'s shape (lets a caller change the memory
            layout in the same pass).
    """
    if isinstance(reference, Tensor) and reference.dim() == 1 and gain.dim() > 1:
        reference = reference.reshape(-1, *([1] * (gain.dim() - 1)))
    if mode == "none":
        return gain if out is None else out.copy_(gain)
    inverse = 1.0 / reference
    result = torch.mul(gain, inverse, out=out) if out is not None else gain * inverse
    return result.log1p_()


def receiver_scale(row_sum: Tensor, mode: str = "damped") -> Tensor:
    """Receiver scale :math:`c_i(t)` from the row sum :math:`d_i(t) \\ge 0` (see module doc)."""
    if mode == "none":
        return torch.ones_like(row_sum)
    if mode == "mean":
        tiny = torch.finfo(row_sum.dtype).tiny
        return torch.where(row_sum > 0, 1.0 / row_sum.clamp_min(tiny), 0.0)
    return 1.0 / (1.0 + row_sum)


def check_modes(compress: str, normalization: str) -> None:
    """Raise ``ValueError`` unless both modes are known."""
    check_choice("compress", compress, COMPRESSIONS)
    check_choice("normalization", normalization, NORMALIZATIONS)


def normalized_shift(
    edge_index: Tensor,
    edge_weight: Tensor,
    num_nodes: int,
    reference: Tensor | float = 1.0,
    compress: str = "log",
    normalization: str = "damped",
) -> Tensor:
    """Edge weights of :math:`\\hat S(t)`, ``[E, *S]``, for every slot at once.

    Args:
        edge_index: ``[2, E]`` edges ``j -> i`` (row 1 is the receiver).
        edge_weight: ``[E, *S]`` shift operator amplitudes :math:`S_{ij}(t)` (zero: no edge).
        num_nodes: number of links ``N``.
        reference: scalar or ``[E]`` reference amplitude of the compression.
        compress: one of :data:`COMPRESSIONS` (default: ``"log"``).
        normalization: one of :data:`NORMALIZATIONS` (default: ``"damped"``).
    """
    weight = compress_gain(edge_weight, reference, compress)
    if normalization == "none":
        return weight
    dst = edge_index[1]
    row_sum = weight.new_zeros(num_nodes, *weight.shape[1:]).index_add_(0, dst, weight)
    return weight * receiver_scale(row_sum, normalization)[dst]


def csr_layout(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """CSR row pointers of the receiver-major adjacency, shared by every slot.

    Returns ``(crow [N + 1], col [E], perm)`` where ``perm`` is ``None`` when ``edge_index``
    is already sorted by receiver (as :class:`~pyg_aggnn.data.WirelessEpisode` keeps it),
    else the stable permutation that sorts it: values must then be taken as
    ``values[perm]``.
    """
    src, dst = edge_index
    perm = None
    if dst.numel() > 1 and not bool((dst[1:] >= dst[:-1]).all()):
        perm = torch.argsort(dst, stable=True)
        src, dst = src[perm], dst[perm]
    counts = torch.bincount(dst, minlength=num_nodes)
    crow = torch.zeros(num_nodes + 1, dtype=torch.long, device=dst.device)
    crow[1:] = torch.cumsum(counts, 0)
    return crow, src, perm


_csr_announced = False


def csr_adjacency(crow: Tensor, col: Tensor, values: Tensor, num_nodes: int) -> Tensor:
    """A ``torch.sparse_csr`` ``[N, N]`` matrix ``A[i, j]`` (receiver ``i``, sender ``j``)."""
    global _csr_announced
    if _csr_announced:
        return torch.sparse_csr_tensor(
            crow, col, values, size=(num_nodes, num_nodes), check_invariants=False
        )
    # PyTorch warns once per process that sparse CSR is "beta"; the products used here
    # are stable, so the first construction swallows that one notice.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        adj = torch.sparse_csr_tensor(
            crow, col, values, size=(num_nodes, num_nodes), check_invariants=False
        )
    _csr_announced = True
    return adj
