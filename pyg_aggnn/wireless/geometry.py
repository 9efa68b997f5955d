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

__all__ = ["candidate_pairs", "link_edges"]


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


def link_edges(tx: Tensor, rx: Tensor, receiver: Tensor) -> Tensor:
    """Expand (transmitter, receiver) pairs into link edges ``j -> i``.

    Transmitter ``j`` heard at receiver ``b`` interferes with every link ``i`` served by
    ``b`` (``receiver[i] == b``). Self loops ``i -> i`` (the direct links) are always
    included. The result is unique and sorted by victim ``i``, then by sender ``j``.

    Args:
        tx: ``[P] long`` transmitter of each pair.
        rx: ``[P] long`` receiver of each pair.
        receiver: ``[m] long`` receiver ``r(i)`` of every link.

    Returns:
        ``[2, E] long`` edge index (row 0: sender ``j``, row 1: victim ``i``).
    """
    m = receiver.size(0)
    _, link_order = torch.sort(receiver)
    num_rx = int(receiver.max()) + 1 if m else 0
    served = torch.bincount(receiver, minlength=max(num_rx, int(rx.max()) + 1 if rx.numel() else 0))
    first = torch.cumsum(served, 0) - served
    count = served[rx]  # links at the pair's receiver
    total = int(count.sum())
    within = torch.arange(total) - (torch.cumsum(count, 0) - count).repeat_interleave(count)
    victim = link_order[first[rx].repeat_interleave(count) + within]
    sender = tx.repeat_interleave(count)
    loops = torch.arange(m)
    key = torch.cat([victim, loops]) * m + torch.cat([sender, loops])
    key = torch.unique(key)  # sorted
    return torch.stack([key % m, key // m])
