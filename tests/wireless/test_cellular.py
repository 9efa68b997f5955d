import pytest
import torch

from pyg_aggnn.wireless import Cellular


def test_users_share_their_base_station():
    scenario = Cellular(num_cells=3, users_per_cell=4)
    ep = scenario.episode(5, seed=1, dtype=torch.float64)
    assert ep.num_nodes == 12 and ep.rx_pos.shape == (3, 2)
    assert torch.equal(ep.receiver, torch.arange(3).repeat_interleave(4))
    for t in range(5):
        gain = ep.dense_gain(t)
        for i in range(12):
            for k in range(12):
                if ep.receiver[i] == ep.receiver[k]:
                    # the same physical channel Tx j -> base station, fading included
                    assert torch.equal(gain[i], gain[k])
    # users lie in the disc around their base station
    dist = torch.linalg.vector_norm(ep.tx_pos - ep.rx_pos[ep.receiver], dim=1)
    assert bool((dist <= scenario.cell_radius + 1e-9).all())


def test_large_cellular_is_sparse_and_keeps_direct_links():
    scenario = Cellular(num_cells=40, users_per_cell=20, dense_max_links=0)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))
    m = scenario.num_links
    loops = layout.edge_index[0] == layout.edge_index[1]
    assert int(loops.sum()) == m
    assert layout.num_edges < m * m


def test_bad_arguments():
    for kwargs, name in [
        ({"num_cells": 0}, "num_cells"),
        ({"users_per_cell": 0}, "users_per_cell"),
        ({"cell_radius": -1.0}, "cell_radius"),
        ({"delta": 2.0}, "delta"),
    ]:
        with pytest.raises(ValueError, match=name):
            Cellular(**kwargs)
