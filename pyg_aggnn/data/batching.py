"""Which network every link and edge of a (possibly batched) episode belongs to.

A single :class:`~pyg_aggnn.data.WirelessEpisode` and a PyG batch of them differ only
by the batch vector; these helpers give every caller (the physics, the layers, the
baselines, the metrics) the same view of both.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["batch_vector", "graph_index", "node_threshold", "edge_threshold"]


def batch_vector(batch) -> tuple[Tensor | None, int]:
    """``(batch vector [N] long or None, number of networks B)`` of a (batched) episode;
    ``None`` for a single episode, which is one network.
    """
    vector = getattr(batch, "batch", None)
    return vector, (int(batch.num_graphs) if vector is not None else 1)


def graph_index(batch) -> tuple[Tensor, Tensor, int]:
    """``(graph [N] long, ptr [B + 1] long, B)`` of a batch, or of a single episode."""
    graph, num_graphs = batch_vector(batch)
    if graph is None:
        device = batch.direct_gain.device
        graph = torch.zeros(batch.num_nodes, dtype=torch.long, device=device)
        return graph, torch.tensor([0, batch.num_nodes], device=device), 1
    return graph, batch.ptr, num_graphs


def node_threshold(batch) -> Tensor:
    r"""``[N]`` graph threshold :math:`\eta_0` of every link's network."""
    eta0 = batch.eta0.reshape(-1)
    graph = getattr(batch, "batch", None)
    if graph is not None and eta0.numel() > 1:
        return eta0[graph]
    return eta0[:1].expand(batch.num_nodes)


def edge_threshold(batch) -> Tensor:
    r"""Graph threshold :math:`\eta_0` of every edge's network (its receiver's): ``[E]``,
    or ``[1]`` when the batch holds a single threshold (no per-edge pass).
    """
    eta0 = batch.eta0.reshape(-1)
    graph = getattr(batch, "batch", None)
    if graph is not None and eta0.numel() > 1:
        return eta0[graph[batch.edge_index[1]]]
    return eta0[:1]
