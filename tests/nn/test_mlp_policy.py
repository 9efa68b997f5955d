import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.nn import MLPPolicy, PowerPolicy
from pyg_aggnn.wireless import AdHoc, GaussianIC


def test_dense_channel_is_the_compressed_matrix_row_major():
    episode = AdHoc(6).episode(4, seed=0, dtype=torch.float64)
    model = MLPPolicy(6, hidden_channels=[8]).double()
    dense = model.dense_channel(episode, all_slots=True)
    assert dense.shape == (1, 4, 36)
    for t in range(4):
        expected = torch.log1p(episode.dense_gain(t) / float(episode.eta0)).reshape(-1)
        torch.testing.assert_close(dense[0, t], expected)
    shift = MLPPolicy(6, channel="shift", compress="none").double().dense_channel(episode)
    torch.testing.assert_close(shift[0, 0], episode.dense_shift(3).reshape(-1))


def test_logits_are_the_mlp_of_each_network_and_batch():
    episodes = [GaussianIC(5).episode(3, seed=s) for s in range(3)]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    model = MLPPolicy(5, hidden_channels=[16, 16]).eval()  # batch norm: running statistics
    assert isinstance(model, PowerPolicy)
    out = model.logits(batch, all_slots=True)
    assert out.shape == (15, 3)
    torch.testing.assert_close(out, torch.cat([model.logits(e, all_slots=True) for e in episodes]))
    dense = model.dense_channel(episodes[1])[0, 0]
    torch.testing.assert_close(model.logits(episodes[1]), model.mlp(dense[None])[0])
    torch.testing.assert_close(model.logits(batch), out[:, -1])


def test_other_sizes_raise_a_clear_error():
    model = MLPPolicy(5)
    with pytest.raises(
        ValueError, match=r"built for networks of num_links=5 links, got networks of \[6\] links"
    ):
        model.logits(GaussianIC(6).episode(2, seed=0))
    mixed = next(
        iter(DataLoader([GaussianIC(5).episode(2), GaussianIC(7).episode(2)], batch_size=2))
    )
    with pytest.raises(ValueError, match=r"got networks of \[5, 7\] links"):
        model.logits(mixed)
    assert repr(model) == (
        "MLPPolicy(num_links=5, hidden_channels=[256, 256], channel='gain', norm='batch_norm')"
    )


def test_batch_norm_trains_on_a_single_network_and_can_be_switched_off():
    episode = GaussianIC(4).episode(1, seed=0)
    model = MLPPolicy(4, hidden_channels=[8]).train()
    assert model.logits(episode).shape == (4,)  # one row in training mode
    plain = MLPPolicy(4, hidden_channels=[8], norm=None)
    assert "norm=None" in repr(plain)
    with pytest.raises(ValueError, match="norm"):
        MLPPolicy(4, norm="layer")
