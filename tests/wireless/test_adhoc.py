import math

import pytest
import torch

from pyg_aggnn.wireless import AdHoc, physics


def test_geometry_bounds_papers_and_fixed_density():
    for m, ref in [(25, None), (50, None), (400, 25)]:
        scenario = AdHoc(m, reference_links=ref)
        ref = m if ref is None else ref
        layout = scenario.sample_layout(torch.Generator().manual_seed(m))
        radius = math.sqrt(m * ref)
        assert scenario.half_width == pytest.approx(radius)
        assert bool((layout.tx_pos.abs() <= radius).all())
        offset = layout.rx_pos - layout.tx_pos
        assert bool((offset.abs() <= ref / 4).all())
        # uniform over the square: the mean is near 0 and spread near radius / sqrt(3)
        assert layout.tx_pos.std().item() == pytest.approx(radius / math.sqrt(3), rel=0.3)


def test_large_scale_gain_is_pathloss_of_distance():
    scenario = AdHoc(12)
    ep = scenario.episode(3, seed=0, dtype=torch.float64)
    src, dst = ep.edge_index
    distance = torch.linalg.vector_norm(ep.tx_pos[src] - ep.rx_pos[ep.receiver[dst]], dim=1)
    # the gain divided by the fading is d^-2.2; check through the dense gain with delta = 0
    frozen = AdHoc(12, delta=0.0).episode(3, seed=0, dtype=torch.float64)
    assert torch.equal(frozen.edge_gain[:, 0], frozen.edge_gain[:, 2])
    ratio = ep.edge_gain[:, 0] / distance.pow(-2.2)
    # the ratio is a Rayleigh amplitude with E|f|^2 = 2
    assert ratio.square().mean().item() == pytest.approx(2.0, rel=0.35)
    assert ep.edge_index.size(1) == 12 * 12  # small networks are dense


def test_sparse_floor_against_dense_rates():
    # the same layout, once with every pair and once with the interference floor
    m = 600
    dense = AdHoc(m, reference_links=25, dense_max_links=10_000)
    sparse = AdHoc(m, reference_links=25, dense_max_links=0)
    gen = torch.Generator().manual_seed(3)
    full = dense.sample_layout(gen)
    # rebuild the sparse candidate set on the same positions
    from pyg_aggnn.wireless.geometry import candidate_pairs, link_edges

    tx, rx = candidate_pairs(full.tx_pos, full.rx_pos, sparse.cutoff_distance())
    edge_index, *_ = link_edges(tx, rx, full.receiver)
    assert edge_index.size(1) < full.edge_index.size(1) / 5
    keep = set(zip(edge_index[0].tolist(), edge_index[1].tolist()))
    mask = torch.tensor([(j, i) in keep for j, i in full.edge_index.T.tolist()])
    ep = dense.episode(
        4, generator=torch.Generator().manual_seed(4), layout=full, dtype=torch.float64
    )
    power = torch.full((m, 4), 2.0, dtype=torch.float64)
    exact = physics.interference_power(power, ep.edge_index, ep.edge_gain)
    approx = physics.interference_power(power, ep.edge_index[:, mask], ep.edge_gain[mask])
    neglected = (exact - approx).mean().item()
    assert 0 <= neglected <= 3 * sparse.neglected_interference()  # documented bound holds
    rates_exact = physics.rate(power, ep.direct_gain, ep.edge_index, ep.edge_gain)
    rates_sparse = physics.rate(power, ep.direct_gain, ep.edge_index[:, mask], ep.edge_gain[mask])
    rel = (physics.sum_rate(rates_sparse) - physics.sum_rate(rates_exact)) / physics.sum_rate(
        rates_exact
    )
    assert rel.abs().max().item() < 1e-3


def test_candidate_neighbours_constant_at_fixed_density():
    counts = []
    for m in (500, 4000):
        layout = AdHoc(m, reference_links=25, dense_max_links=0).sample_layout(
            torch.Generator().manual_seed(0)
        )
        counts.append(layout.num_edges / m)
    assert counts[1] == pytest.approx(counts[0], rel=0.15)  # O(m) edges


def test_bad_arguments():
    for kwargs, name in [
        ({"num_links": 0}, "num_links"),
        ({"num_links": -3}, "num_links"),
        ({"num_links": 2.5}, "num_links"),
        ({"delta": 1.2}, "delta"),
        ({"delta": -0.01}, "delta"),
        ({"noise_power": -1.0}, "noise_power"),
        ({"eta0": -0.1}, "eta0"),
        ({"p0": 0.0}, "p0"),
        ({"p0": float("inf")}, "p0"),
        ({"p_max_total": float("nan")}, "p_max_total"),
        ({"pathloss_exponent": 0}, "pathloss_exponent"),
        ({"reference_links": 0}, "reference_links"),
        ({"link_weights": "random"}, "link_weights"),
    ]:
        with pytest.raises(ValueError, match=name):
            AdHoc(**kwargs)
