"""Shared skeleton of the models that decide from the *current* slot's graph.

:class:`~pyg_aggnn.nn.SelectionGNN`, :class:`~pyg_aggnn.nn.WCGCN` and
:class:`~pyg_aggnn.nn.GenericGNNPolicy` are centralized: at slot :math:`t` they see the
whole graph :math:`\\mathcal{G}(t)`. :class:`SnapshotPolicy` turns a (batched) episode
into the graphs of the decision slot (or of every slot, stacked as disjoint copies, so
that one forward pass decides at all ``T`` slots), with the same inputs and the same
compressed, receiver-normalised shift weights as the Agg-GNN; a subclass overrides
:meth:`SnapshotPolicy.snapshot_logits` only.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.nn import features as node_inputs
from pyg_aggnn.nn import shift
from pyg_aggnn.nn.policy import PowerPolicy

__all__ = ["SnapshotPolicy", "SlotGraph", "EDGE_FEATURES", "reverse_edges", "candidate_reverse"]

EDGE_FEATURES = ("gain", "reverse_gain", "shift")


class SlotGraph(NamedTuple):
    """The graphs of ``S`` slots as one disjoint union (slot-major node order).

    Attributes:
        x: ``[S * N, F_in]`` node inputs; row ``s * N + i`` is link ``i`` at slot ``s``.
        edge_index: ``[2, E']`` edges ``j -> i`` of each slot's graph, sorted by receiver.
        edge_weight: ``[E']`` compressed, receiver-normalised shift weights (``None``
            for a policy that uses none, see ``SnapshotPolicy.uses_shift_weights``).
        edge_attr: ``[E', D]`` edge features (``None`` if the model asks for none).
        num_nodes: ``S * N``.
    """

    x: Tensor
    edge_index: Tensor
    edge_weight: Tensor | None
    edge_attr: Tensor | None
    num_nodes: int


def reverse_edges(edge_index: Tensor, num_nodes: int, edges: Tensor | None = None) -> Tensor:
    """Index of the reverse edge ``i -> j`` of every edge ``j -> i``, ``-1`` if absent.

    Args:
        edge_index: ``[2, E]`` edges; a receiver-major sorted list (as episodes keep
            it) skips the sort.
        num_nodes: number of nodes.
        edges: optional ``[Q]`` indices of the edges to look up (default: all).
    """
    src, dst = edge_index
    key = dst * num_nodes + src
    order = None
    if key.numel() > 1 and not bool((key[1:] > key[:-1]).all()):
        order = torch.argsort(key)
        key = key[order]
    if edges is not None:
        src, dst = src[edges], dst[edges]
    want = src * num_nodes + dst
    if key.numel() == 0:
        return torch.full_like(want, -1)
    pos = torch.searchsorted(key, want).clamp_max(key.numel() - 1)
    found = key[pos] == want
    index = pos if order is None else order[pos]
    return torch.where(found, index, -1)


#: ``id(edge_index) -> (weak reference, version, num_nodes, reverse index)``
_REVERSE: dict[int, tuple] = {}


def candidate_reverse(edge_index: Tensor, num_nodes: int) -> Tensor:
    """:func:`reverse_edges` of every candidate edge, kept while ``edge_index`` lives
    unchanged.

    An episode's candidate pairs are fixed (they come from its geometry), so the lookup
    is the same at every slot: it is done once per episode, and every decision on that
    episode reuses it. The entry is dropped with the tensor, and not used once the
    tensor was modified in place (its version counter moved); inference-mode tensors,
    which have no version counter, are looked up every time.
    """
    try:
        version = edge_index._version
    except RuntimeError:  # an inference tensor
        return reverse_edges(edge_index, num_nodes)
    key = id(edge_index)
    entry = _REVERSE.get(key)
    if entry is not None and entry[0]() is edge_index and entry[1:3] == (version, num_nodes):
        return entry[3]
    result = reverse_edges(edge_index, num_nodes)
    ref = weakref.ref(edge_index, lambda _, key=key: _REVERSE.pop(key, None))
    _REVERSE[key] = (ref, version, num_nodes, result)
    return result


def _slot_reverse(edge_index: Tensor, num_nodes: int, edges: Tensor) -> Tensor:
    """The reverse edges of ``edges``: from the episode's kept lookup, or, for an
    inference tensor (nothing can be kept for it), by looking up these edges only.
    """
    if edge_index.is_inference():
        return reverse_edges(edge_index, num_nodes, edges)
    return candidate_reverse(edge_index, num_nodes).index_select(0, edges)


class SnapshotPolicy(PowerPolicy):
    """Base class of policies that see the decision slot's graph (centralized models).

    Args:
        features: node inputs (see :mod:`pyg_aggnn.nn.features`).
        state_channels: channels of ``episode.x`` (default: ``1``).
        edge_features: edge inputs from :data:`EDGE_FEATURES`: ``"gain"``
            :math:`\\log(1 + |h_{ij}(t)| / \\eta)`, ``"reverse_gain"`` the same for the
            reverse pair :math:`|h_{ji}(t)|` (zero when not materialized), ``"shift"``
            the normalised shift weight :math:`\\hat S_{ij}(t)` (default: none).
        compress, normalization, gain_scale: see :class:`~pyg_aggnn.nn.DelayedDiffusion`.
        self_loops: keep the direct links ``i -> i`` as edges (default: ``True``).
    """

    #: Whether :meth:`snapshot_logits` reads ``graph.edge_weight`` (the normalised shift
    #: weights); a subclass that does not sets it to ``False`` and skips computing them.
    uses_shift_weights: bool = True

    def __init__(
        self,
        features: Sequence[str] = ("state", "direct_gain"),
        state_channels: int = 1,
        edge_features: Sequence[str] = (),
        compress: str = "log",
        normalization: str = "damped",
        gain_scale: float | None = None,
        self_loops: bool = True,
    ):
        super().__init__()
        self.features = node_inputs.check_features(features)
        self.state_channels = check_positive_int("state_channels", state_channels)
        self.in_channels = node_inputs.num_node_features(self.features, state_channels)
        self.edge_features = (
            node_inputs.check_features(edge_features, EDGE_FEATURES, "edge_features")
            if len(edge_features)
            else ()
        )
        shift.check_modes(compress, normalization)
        self.compress, self.normalization = compress, normalization
        self.gain_scale = None if gain_scale is None else float(gain_scale)
        self.self_loops = bool(self_loops)

    def snapshot(self, batch, all_slots: bool = False) -> SlotGraph:
        """The decision slot's graph (or all slots' graphs stacked)."""
        num_nodes, num_slots = batch.x.shape[:2]
        slots = slice(0, num_slots) if all_slots else slice(num_slots - 1, num_slots)
        count = num_slots if all_slots else 1
        x = node_inputs.node_features(batch, self.features, self.gain_scale)[:, slots]
        x = x.transpose(0, 1).reshape(count * num_nodes, -1)  # slot-major

        edge_index = batch.edge_index
        # [E], or 0-dim when every receiver has the same one (no per-edge pass)
        reference = shift.edge_reference(batch, self.gain_scale)
        raw = batch.edge_weight[:, slots].to(x.dtype)  # [E, S]
        weight = None
        if self.uses_shift_weights or "shift" in self.edge_features:
            weight = shift.normalized_shift(
                edge_index, raw, num_nodes, reference, self.compress, self.normalization
            )
        keep = raw > 0
        if not self.self_loops:
            keep &= (edge_index[0] != edge_index[1])[:, None]
        slot, edge = keep.t().nonzero(as_tuple=True)  # sorted by slot, then edge
        graph_edges = torch.stack(
            [edge_index[0].index_select(0, edge), edge_index[1].index_select(0, edge)]
        )
        # entry (edge, slot) of the [E, S] gains and weights, flattened
        if count == 1:
            at, raw_flat = edge, raw[:, 0]
            weight_flat = None if weight is None else weight[:, 0]
        else:
            graph_edges += slot * num_nodes
            at, raw_flat = edge * count + slot, raw.contiguous().view(-1)
            weight_flat = None if weight is None else weight.reshape(-1)
        edge_reference = reference.index_select(0, edge) if reference.dim() else reference
        attrs = []
        for name in self.edge_features:
            if name == "gain":
                gain = raw_flat.index_select(0, at)
                attrs.append(shift.compress_gain(gain, edge_reference))
            elif name == "shift":
                attrs.append(weight_flat.index_select(0, at))
            else:
                rev = _slot_reverse(edge_index, num_nodes, edge)
                # one gather from the flat [E, T] gains: entry (rev, first slot + slot)
                entry = rev.clamp_min(0) * batch.edge_gain.size(1) + (slots.start + slot)
                gain = batch.edge_gain.reshape(-1).index_select(0, entry).to(x.dtype)
                gain = torch.where(rev >= 0, gain, 0.0)
                attrs.append(shift.compress_gain(gain, edge_reference))
        edge_attr = torch.stack(attrs, dim=1) if attrs else None
        edge_weight = None if weight_flat is None else weight_flat.index_select(0, at)
        return SlotGraph(x, graph_edges, edge_weight, edge_attr, count * num_nodes)

    def snapshot_logits(self, graph: SlotGraph) -> Tensor:
        """Logits ``[S * N]`` of every node of the stacked graphs (the override point)."""
        raise NotImplementedError

    def logits(self, batch, all_slots: bool = False) -> Tensor:
        self.check_batch(batch)
        out = self.snapshot_logits(self.snapshot(batch, all_slots=all_slots))
        if not all_slots:
            return out
        return out.view(batch.x.size(1), batch.x.size(0)).t()
