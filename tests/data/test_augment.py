import pytest
import torch
from torch_geometric.loader import DataLoader

from lightning_modules.datamodule import WirelessDataModule
from pyg_aggnn.data import WirelessEpisode, keyed_generator, permute_links, random_link_permutation
from pyg_aggnn.wireless import AdHoc, GaussianIC


def _episodes(count=3, m=4, slots=2):
    out = []
    for k in range(count):
        gen = torch.Generator().manual_seed(k)
        gain = torch.rand(m, m, slots, generator=gen, dtype=torch.float64) + 0.1
        x = torch.rand(m, slots, 1, generator=gen, dtype=torch.float64)
        weight = torch.rand(m, generator=gen, dtype=torch.float64) + 0.5
        out.append(WirelessEpisode.from_dense(gain, eta0=0.3, x=x, link_weight=weight))
    return out


def _dense(episode):
    """gain[i, j, t] = Tx j -> Rx i, from the edge list."""
    m, slots = episode.num_nodes, episode.edge_gain.size(1)
    gain = torch.zeros(m, m, slots, dtype=episode.edge_gain.dtype)
    src, dst = episode.edge_index
    gain[dst, src] = episode.edge_gain
    return gain


def test_permute_links_relabels_the_dense_channel_and_node_attributes():
    (episode,) = _episodes(1)
    perm = torch.tensor([2, 0, 3, 1])
    out = permute_links(episode, perm)
    assert torch.equal(_dense(out), _dense(episode)[perm][:, perm])
    for key in ("x", "direct_gain", "active", "link_weight", "max_power", "noise_power"):
        assert torch.equal(out[key], episode[key][perm]), key
    # the episode order: edges sorted by victim, then sender; the input is untouched
    src, dst = out.edge_index
    assert torch.equal(torch.argsort(dst * 4 + src), torch.arange(len(src)))
    assert torch.equal(permute_links(out, torch.argsort(perm)).edge_gain, episode.edge_gain)
    # shift weights keep their meaning: the threshold test of the relabelled edge
    assert torch.equal(out.edge_weight > 0, out.edge_gain >= 0.3)


def test_rates_of_relabelled_networks_are_the_relabelled_rates():
    batch = next(iter(DataLoader(_episodes(3), batch_size=3)))
    perm = random_link_permutation(batch, torch.Generator().manual_seed(1))
    assert torch.equal(batch.batch[perm], batch.batch)  # every link stays in its network
    power = torch.rand(batch.num_nodes, 2, 1, dtype=torch.float64)
    out = permute_links(batch, perm)
    torch.testing.assert_close(out.rates(power[perm]), batch.rates(power)[perm])
    # against the dense formula, one network at a time
    for k, episode in enumerate(batch.to_data_list()):
        local = perm[batch.ptr[k] : batch.ptr[k + 1]] - batch.ptr[k]
        gain = _dense(episode)[local][:, local].pow(2).permute(2, 0, 1)  # [T, m, m]
        p = power[batch.ptr[k] : batch.ptr[k + 1]][local, :, 0].t()  # [T, m]
        received = gain * p[:, None, :]  # [T, i, j]: Tx j heard at Rx i
        signal = received.diagonal(dim1=1, dim2=2)
        expected = torch.log1p(signal / (1.0 + received.sum(-1) - signal)).t()  # [m, T]
        torch.testing.assert_close(out.rates(power[perm])[out.batch == k, :, 0], expected)


def test_permute_links_refuses_what_it_cannot_relabel():
    batch = next(iter(DataLoader(_episodes(2), batch_size=2)))
    with pytest.raises(ValueError, match="perm must be a permutation"):
        permute_links(batch, torch.tensor([4, 1, 2, 3, 0, 5, 6, 7]))  # across networks
    with pytest.raises(ValueError, match="perm must be a permutation"):
        permute_links(batch, torch.zeros(8, dtype=torch.long))
    (episode,) = _episodes(1)
    episode.extra = torch.zeros(4)
    with pytest.raises(ValueError, match="extra"):
        permute_links(episode, torch.arange(4))


def test_random_link_permutation_is_keyed_and_uniform():
    batch = next(iter(DataLoader(_episodes(2, m=3), batch_size=2)))
    first = random_link_permutation(batch, keyed_generator(0, 7, 3))
    assert torch.equal(first, random_link_permutation(batch, keyed_generator(0, 7, 3)))
    counts = torch.zeros(3, 3)
    for key in range(3000):
        perm = random_link_permutation(batch, keyed_generator(0, key))
        counts[torch.arange(3), perm[:3]] += 1
    assert torch.allclose(counts / 3000, torch.full((3, 3), 1 / 3), atol=0.04)


def test_datamodule_permutes_training_batches_only(tmp_path):
    data = WirelessDataModule(
        scenario=GaussianIC(num_links=5),
        network="random",
        num_slots=1,
        batch_size=4,
        train_size=8,
        val_size=4,
        test_size=4,
        augment="permute_links",
    )
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))

    class Trainer:  # what the hook reads of a trainer
        training, global_step, global_rank, world_size = True, 3, 0, 1

    data.trainer = Trainer()
    out = data.on_before_batch_transfer(batch, 0)
    assert not torch.equal(out.direct_gain, batch.direct_gain)
    assert torch.equal(out.direct_gain.sort(0).values, batch.direct_gain.sort(0).values)
    again = data.on_before_batch_transfer(batch, 0)
    assert torch.equal(again.edge_gain, out.edge_gain)  # keyed by seed and step
    Trainer.training = False
    assert data.on_before_batch_transfer(batch, 0) is batch


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"augment": "flip"}, "augment"),
        ({"augment": "permute_links", "network": "fixed", "train_size": 8}, "network='random'"),
        ({"augment": "permute_links", "network": "random"}, "train_size"),
    ],
)
def test_datamodule_refuses_augmentation_it_cannot_apply(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WirelessDataModule(scenario=AdHoc(num_links=5), **kwargs)
