import io

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.wireless import AdHoc, Cellular, GaussianIC, RandomSubsets


def _dense_rates(gain, power, noise):
    g2 = gain**2
    signal = np.diag(g2) * power
    return np.log1p(signal / (noise + g2 @ power - signal))


def test_threshold_and_activity_against_dense_reference():
    scenario = AdHoc(12, activation=RandomSubsets(lam=5), eta0=0.01)
    ep = scenario.episode(6, seed=0, dtype=torch.float64)
    for t in range(6):
        gain = ep.dense_gain(t).numpy()  # gain[i, j]
        active = ep.active[:, t].numpy()
        expected = gain * (gain >= 0.01) * active[None, :]  # S(t) = gain o Q(t)
        np.testing.assert_array_equal(ep.dense_shift(t).numpy(), expected)
        # snapshot holds exactly the non-zero entries of S(t)
        snap = ep.snapshot(t)
        dense = np.zeros((12, 12))
        dense[snap.edge_index[1].numpy(), snap.edge_index[0].numpy()] = snap.edge_weight.numpy()
        np.testing.assert_array_equal(dense, expected)
        assert bool((snap.edge_weight > 0).all())
    # inactive nodes still receive: rows of inactive victims may be non-zero
    assert len(ep.to_snapshots()) == 6


def test_sparse_rates_equal_dense_reference():
    ep = AdHoc(10).episode(4, seed=1, dtype=torch.float64)
    power = torch.rand(10, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rates = ep.rates(power)
    for t in range(4):
        want = _dense_rates(ep.dense_gain(t).numpy(), power[:, t].numpy(), 1.0)
        np.testing.assert_allclose(rates[:, t].numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(ep.rates(power[:, t], slot=t).numpy(), want, rtol=1e-12)
    # eq. (41) variant: only above-threshold interferers count
    thr = ep.rates(power, neighbours_only=True)
    for t in range(4):
        gain = ep.dense_gain(t).numpy()
        kept = gain * (gain >= ep.eta0.item())
        np.fill_diagonal(kept, np.diag(gain))
        np.testing.assert_allclose(thr[:, t].numpy(), _dense_rates(kept, power[:, t].numpy(), 1.0))


def test_batching_mixed_sizes():
    episodes = [
        AdHoc(7).episode(3, seed=0),
        Cellular(2, 3).episode(3, seed=1),
        GaussianIC(4).episode(3, seed=2),
    ]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    assert batch.num_graphs == 3 and batch.num_nodes == 17
    assert batch.edge_index.size(1) == sum(e.edge_index.size(1) for e in episodes)
    # receiver indices are offset by the number of receivers of the previous episodes
    assert torch.equal(batch.receiver[7:13], torch.tensor([7, 7, 7, 8, 8, 8]))
    assert torch.equal(batch.receiver[13:], torch.arange(9, 13))
    assert batch.rx_pos.size(0) == 7 + 2 + 4
    torch.testing.assert_close(batch.eta0, torch.tensor([0.005, 0.005, 0.0]))
    # rates of the batch equal the rates of each episode
    power = torch.rand(17, 3)
    rates = batch.rates(power)
    for g, ep in enumerate(episodes):
        lo, hi = batch.ptr[g], batch.ptr[g + 1]
        torch.testing.assert_close(rates[lo:hi], ep.rates(power[lo:hi]))
    # the threshold is per graph inside a batch
    torch.testing.assert_close(
        batch.interference_gain(True)[: episodes[0].num_edges], episodes[0].interference_gain(True)
    )
    back = batch.to_data_list()
    assert torch.equal(back[1].edge_weight, episodes[1].edge_weight)


def test_weights_only_round_trip():
    ep = Cellular(2, 2).episode(3, seed=0)
    buffer = io.BytesIO()
    torch.save([ep], buffer)
    buffer.seek(0)
    (loaded,) = torch.load(buffer, weights_only=True)
    assert isinstance(loaded, WirelessEpisode)
    for key in ep.keys():
        assert torch.equal(loaded[key], ep[key])


def test_from_dense_and_validation():
    gain = torch.rand(3, 3, 2)
    ep = WirelessEpisode.from_dense(gain, eta0=0.5)
    torch.testing.assert_close(ep.dense_gain(1), gain[:, :, 1])
    torch.testing.assert_close(ep.dense_shift(0), gain[:, :, 0] * (gain[:, :, 0] >= 0.5))
    with pytest.raises(ValueError, match="gain"):
        WirelessEpisode.from_dense(torch.rand(3, 2, 2))
    with pytest.raises(ValueError, match="gain"):
        WirelessEpisode.from_dense(torch.full((2, 2, 1), float("inf")))
    with pytest.raises(ValueError, match="gain"):
        WirelessEpisode.from_dense(-torch.rand(2, 2, 1))
    with pytest.raises(ValueError, match="eta0"):
        WirelessEpisode.from_dense(gain, eta0=-1.0)
    with pytest.raises(ValueError, match="noise_power"):
        WirelessEpisode.from_dense(gain, noise_power=-1.0)
    with pytest.raises(ValueError, match="max_power"):
        WirelessEpisode.from_dense(gain, max_power=0.0)
    with pytest.raises(ValueError, match="active"):
        WirelessEpisode.from_dense(gain, active=torch.ones(3, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="x"):
        WirelessEpisode.from_dense(gain, x=torch.ones(2, 2, 1))
    with pytest.raises(ValueError, match="link_weight"):
        WirelessEpisode.from_dense(gain, link_weight=torch.tensor([1.0, -1.0, 0.0]))
    large = AdHoc(4097, reference_links=25).episode(1, seed=0)
    with pytest.raises(ValueError, match="m <= 4096"):
        large.dense_gain(0)
