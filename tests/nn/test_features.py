import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.nn import features
from pyg_aggnn.wireless import AdHoc, GaussianIC, PoissonArrivals, RandomSubsets


def test_local_features_values_and_channels():
    data = AdHoc(6, activation=RandomSubsets(3), state=PoissonArrivals(2.0), link_weights="uniform")
    data = data.episode(4, seed=0, dtype=torch.float64)
    names = ["state", "direct_gain", "active", "link_weight"]
    out = features.node_features(data, names)
    assert out.shape == (6, 4, features.num_node_features(names)) == (6, 4, 4)
    torch.testing.assert_close(out[..., 0], data.x[..., 0])
    torch.testing.assert_close(out[..., 1], torch.log1p(data.direct_gain / data.eta0))
    torch.testing.assert_close(out[..., 2], data.active.double())
    torch.testing.assert_close(out[..., 3], data.link_weight[:, None].expand(6, 4))
    assert features.num_node_features(["state", "active"], state_channels=3) == 4


def test_each_row_uses_only_that_links_own_quantities():
    data = AdHoc(8).episode(5, seed=1, dtype=torch.float64)
    names = ["state", "direct_gain", "active", "link_weight"]
    before = features.node_features(data, names)
    changed = data.clone()
    changed.direct_gain[1:] *= 7.0
    changed.x[1:] += 3.0
    changed.link_weight[1:] = 0.5
    after = features.node_features(changed, names)
    torch.testing.assert_close(after[0], before[0])
    assert not torch.allclose(after[1:], before[1:])


def test_batch_uses_each_graphs_threshold_and_zero_means_one():
    episodes = [AdHoc(5, eta0=0.01).episode(3, seed=0), GaussianIC(4).episode(3, seed=0)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    out = features.node_features(batch, ["direct_gain"])[..., 0]
    torch.testing.assert_close(out[:5], torch.log1p(episodes[0].direct_gain / 0.01))
    torch.testing.assert_close(out[5:], torch.log1p(episodes[1].direct_gain / 1.0))


def test_check_features_messages():
    with pytest.raises(ValueError, match="features must be a non-empty list"):
        features.check_features([])
    with pytest.raises(ValueError, match="features must be a non-empty list"):
        features.check_features("state")
    with pytest.raises(ValueError, match=r"features must be one of \['state'"):
        features.check_features(["speed"])


def test_leakage_against_dense_reference():
    episode = AdHoc(7, eta0=0.02).episode(4, seed=3, dtype=torch.float64)
    out = features.node_features(episode, ["direct_gain", "leakage"])[..., 1]
    src, dst = episode.edge_index
    for t in range(4):
        gain = torch.zeros(7, 7, dtype=torch.float64)
        gain[dst, src] = episode.edge_gain[:, t]  # [victim, sender]
        gain.fill_diagonal_(0.0)
        heard = gain * (gain >= 0.02)  # the pairs above the threshold
        caused = (heard.square() / episode.noise_power[:, None]).sum(0)  # over victims
        torch.testing.assert_close(out[:, t], torch.log1p(episode.max_power * caused))
    assert bool((out > 0).any())
    # what link 0 causes, not what it receives
    changed = episode.clone()
    incoming = (dst == 0) & (src != 0)
    changed.edge_gain[incoming] *= 3.0
    after = features.node_features(changed, ["leakage"])[..., 0]
    torch.testing.assert_close(after[0], out[0])
    with pytest.raises(ValueError, match="'leakage' needs the links' outgoing gains"):
        features.local_features(
            ["leakage"], episode.x, episode.direct_gain, episode.active, episode.link_weight, 1.0
        )
