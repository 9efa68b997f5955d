import numpy as np
import pytest
import torch

from pyg_aggnn.wireless import physics


@pytest.fixture
def batched_edges():
    """Dense NumPy networks ``H[i, j]`` (Tx ``j`` -> Rx ``i``) of any sizes as one batch:
    ``(direct_gain, edge_index, edge_gain, batch)`` with every pair kept."""

    def build(nets: list[np.ndarray]):
        parts = [physics.dense_to_edges(torch.tensor(H)) for H in nets]
        sizes = torch.tensor([H.shape[0] for H in nets])
        offsets = torch.cumsum(sizes, 0) - sizes
        direct = torch.cat([d for d, _, _ in parts])
        edge_index = torch.cat([ei + int(o) for (_, ei, _), o in zip(parts, offsets)], 1)
        edge_gain = torch.cat([eg for _, _, eg in parts])
        batch = torch.repeat_interleave(torch.arange(len(nets)), sizes)
        return direct, edge_index, edge_gain, batch

    return build
