import pytest
import torch

from lightning_modules.datamodule import WirelessDataModule
from pyg_aggnn.wireless import AdHoc, GaussianIC


def test_fixed_network_keeps_one_layout_with_new_fading():
    data = WirelessDataModule(AdHoc(num_links=5), num_slots=3, batch_size=4, batches_per_epoch=2)
    assert data.num_links == 5
    batch = next(iter(data.train_dataloader()))
    positions = batch.tx_pos.view(4, 5, 2)
    assert bool((positions == positions[:1]).all())
    gains = batch.edge_gain.view(4, -1, 3)
    assert not torch.equal(gains[0], gains[1])


def test_random_networks_draw_new_layouts_and_several_sizes():
    data = WirelessDataModule(
        [AdHoc(num_links=3), AdHoc(num_links=6)], network="random", num_slots=2, batch_size=16
    )
    assert data.num_links is None
    batch = next(iter(data.train_dataloader()))
    sizes = (batch.ptr[1:] - batch.ptr[:-1]).tolist()
    assert set(sizes) == {3, 6}


def test_held_out_sets_are_fixed_and_distinct_from_training():
    data = WirelessDataModule(
        GaussianIC(num_links=3), network="random", num_slots=2, val_size=5, test_size=7
    )
    val = next(iter(data.val_dataloader()))
    again = next(
        iter(
            WirelessDataModule(
                GaussianIC(num_links=3), network="random", num_slots=2, val_size=5, test_size=7
            ).val_dataloader()
        )
    )
    assert torch.equal(val.edge_gain, again.edge_gain) and val.num_graphs == 5
    test = next(iter(data.test_dataloader()))
    train = next(iter(data.train_dataloader()))
    assert test.num_graphs == 7
    assert not torch.equal(val.edge_gain, test.edge_gain[: val.edge_gain.size(0)])
    assert not torch.equal(val.edge_gain, train.edge_gain[: val.edge_gain.size(0)])


def test_on_disk_dataset(tmp_path):
    from pyg_aggnn.data import WirelessDataset
    from pyg_aggnn.data.generate import main as generate

    config = tmp_path / "small.yaml"
    config.write_text(
        "seed: 0\nnum_slots: 3\nnetwork: fixed\nshard_size: 4\n"
        "scenario:\n  class_path: pyg_aggnn.wireless.AdHoc\n  init_args:\n    num_links: 4\n"
        "splits:\n  train: 8\n  val: 4\n  test: 4\n"
    )
    assert generate(["--config", str(config), "--root", str(tmp_path / "data")]) == 0
    (path,) = (tmp_path / "data").iterdir()
    data = WirelessDataModule(dataset=str(path), batch_size=4, eval_batch_size=4)
    assert data.num_links == 4
    train = list(data.train_dataloader())
    assert len(train) == 2
    ids = sorted(i for batch in train for i in batch.sample_id.tolist())
    assert ids == list(range(8))
    val = next(iter(data.val_dataloader()))
    stored = WirelessDataset(path, split="val")[0]
    assert torch.equal(val.edge_gain[: stored.edge_gain.size(0)], stored.edge_gain)
    # the generated splits are the online streams of the same seed
    online = WirelessDataModule(AdHoc(num_links=4), num_slots=3, val_size=4, eval_batch_size=4)
    simulated = next(iter(online.val_dataloader()))
    assert torch.equal(simulated.edge_gain, val.edge_gain)
    assert torch.equal(simulated.tx_pos, val.tx_pos)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"network": "ring"}, "network must be one of"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"scenario": "adhoc"}, "scenario must be a Scenario"),
        ({"scenario": [AdHoc(3), AdHoc(4)]}, "network='fixed' needs one scenario"),
        ({"dataset": "somewhere", "scenario": AdHoc(3)}, "either scenario or dataset"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WirelessDataModule(**kwargs)


def test_train_size_cycles_through_the_first_episodes_of_the_stream():
    scenario = GaussianIC(num_links=3)
    pool = WirelessDataModule(scenario, network="random", num_slots=1, batch_size=4, train_size=8)
    online = WirelessDataModule(scenario, network="random", num_slots=1, batch_size=8)
    loader = pool.train_dataloader()
    first = list(loader)
    assert len(first) == 2  # one epoch is one pass over the 8 episodes
    ids = sorted(torch.cat([b.sample_id for b in first]).tolist())
    assert ids == list(range(8))
    stream = next(iter(online.train_dataloader()))  # episodes 0-7 of the online stream
    by_id = {int(i): e for b in first for i, e in zip(b.sample_id, b.to_data_list())}
    for index, episode in enumerate(stream.to_data_list()):
        assert torch.equal(by_id[index].edge_gain, episode.edge_gain)
    loader.sampler.set_epoch(1)
    second = torch.cat([b.sample_id for b in loader]).tolist()
    assert sorted(second) == ids and second != torch.cat([b.sample_id for b in first]).tolist()


def test_train_size_is_checked():
    with pytest.raises(ValueError, match="train_size"):
        WirelessDataModule(GaussianIC(num_links=3), train_size=0)
    data = WirelessDataModule(GaussianIC(num_links=3), network="random", batch_size=8, train_size=4)
    with pytest.raises(ValueError, match="batch_size=8"):
        data.train_dataloader()
