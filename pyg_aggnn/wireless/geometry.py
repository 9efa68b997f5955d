"""Candidate interference pairs without an ``m x m`` matrix.

Large networks keep only the transmitter/receiver pairs closer than a cut-off distance
(the *interference floor*, see :class:`~pyg_aggnn.wireless.AdHoc`). The pairs come from a
uniform cell list: points are hashed to square cells of side ``max_distance`` and each
receiver is compared with the transmitters of its own and the eight neighbouring cells,
an expected ``O(m + E)`` procedure.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive

__all__ = ["candidate_pairs", "link_edges", "locality_order"]


def _all_pairs(num_tx: int, num_rx: int) -> tuple[Tensor, Tensor]:
    tx = torch.arange(num_tx).repeat(num_rx)
    rx = torch.arange(num_rx).repeat_interleave(num_tx)
    return tx, rx


def candidate_pairs(
    tx_pos: Tensor, rx_pos: Tensor, max_distance: float | None
) -> tuple[Tensor, Tensor]:
    """All (transmitter, receiver) pairs within ``max_distance`` of each other.

    Args:
        tx_pos: ``[m, 2] float`` transmitter positions (metres or scenario units).
        rx_pos: ``[n, 2] float`` receiver positions.
        max_distance: cut-off distance; ``None`` keeps every pair (dense, exact).

    Returns:
        ``(tx, rx)``: two ``[P] long`` tensors of pair indices, in no particular order.
    """
    if max_distance is None:
        return _all_pairs(tx_pos.size(0), rx_pos.size(0))
    origin = torch.minimum(tx_pos.min(dim=0).values, rx_pos.min(dim=0).values)
    tx_cell = torch.floor((tx_pos - origin) / max_distance).long()  # [m, 2]
    rx_cell = torch.floor((rx_pos - origin) / max_distance).long()  # [n, 2]
    width = int(torch.maximum(tx_cell[:, 1].max(), rx_cell[:, 1].max())) + 3
    tx_key = (tx_cell[:, 0] + 1) * width + (tx_cell[:, 1] + 1)
    tx_key, order = torch.sort(tx_key)

    tx_list, rx_list = [], []
    rx_index = torch.arange(rx_pos.size(0))
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            key = (rx_cell[:, 0] + 1 + dx) * width + (rx_cell[:, 1] + 1 + dy)  # [n]
            start = torch.searchsorted(tx_key, key, right=False)
            count = torch.searchsorted(tx_key, key, right=True) - start
            total = int(count.sum())
            if total == 0:
                continue
            rx = rx_index.repeat_interleave(count)
            first = torch.cumsum(count, 0) - count
            within = torch.arange(total) - first.repeat_interleave(count)
            tx = order[start.repeat_interleave(count) + within]
            tx_list.append(tx)
            rx_list.append(rx)
    if not tx_list:
        empty = torch.empty(0, dtype=torch.long)
        return empty, empty
    tx, rx = torch.cat(tx_list), torch.cat(rx_list)
    close = torch.linalg.vector_norm(tx_pos[tx] - rx_pos[rx], dim=1) <= max_distance
    return tx[close], rx[close]


def locality_order(points: Tensor, band: float) -> Tensor:
    """A permutation that numbers points band by band, and by ``x`` within a band.

    Bands are horizontal strips of height ``band``, so points closer than ``band`` (in
    the same or in adjacent strips) get indices less than two strips' worth of points
    apart. Large networks number
    their links this way: a neighbourhood product over the interference graph then
    reads node rows that are close in memory (the links themselves are exchangeable,
    so the order changes no distribution).

    Args:
        points: ``[m, 2] float`` positions.
        band: strip height ``> 0``, typically the interference cut-off distance.
    """
    band = check_positive("band", band)
    strip = torch.floor((points[:, 1] - points[:, 1].min()) / band)
    order = torch.argsort(points[:, 0], stable=True)
    return order[torch.argsort(strip[order], stable=True)]


def link_edges(tx: Tensor, rx: Tensor, receiver: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Expand (transmitter, receiver) pairs into link edges ``j -> i``.

    Transmitter ``j`` heard at receiver ``b`` interferes with every link ``i`` served by
    ``b`` (``receiver[i] == b``); all those edges share one physical channel, the pair
    ``(j, b)``. The direct pairs ``(i, receiver[i])`` are always included, so every self
    loop ``i -> i`` exists. Edges are unique and sorted by victim ``i``, then sender ``j``.

    Args:
        tx: ``[P] long`` transmitter of each candidate pair.
        rx: ``[P] long`` receiver of each candidate pair.
        receiver: ``[m] long`` receiver ``r(i)`` of every link.

    Returns:
        ``(edge_index, edge_pair, pair_tx, pair_rx)``: ``[2, E] long`` edges (row 0:
        sender ``j``, row 1: victim ``i``), ``[E] long`` index of each edge's physical
        pair, and the ``[P'] long`` transmitter and receiver of the unique pairs.
    """
    m = receiver.size(0)
    num_rx = max(int(receiver.max()) + 1, int(rx.max()) + 1 if rx.numel() else 0)
    pair_key = torch.unique(torch.cat([tx, torch.arange(m)]) * num_rx + torch.cat([rx, receiver]))
    pair_tx, pair_rx = pair_key // num_rx, pair_key % num_rx
    _, link_order = torch.sort(receiver)  # links grouped by receiver
    served = torch.bincount(receiver, minlength=num_rx)
    first = torch.cumsum(served, 0) - served
    count = served[pair_rx]  # links served at each pair's receiver
    total = int(count.sum())
    within = torch.arange(total) - (torch.cumsum(count, 0) - count).repeat_interleave(count)
    victim = link_order[first[pair_rx].repeat_interleave(count) + within]
    pair = torch.arange(pair_key.numel()).repeat_interleave(count)
    sender = pair_tx[pair]
    order = torch.argsort(victim * m + sender)
    edge_index = torch.stack([sender[order], victim[order]])
    return edge_index, pair[order], pair_tx, pair_rx
