import json
import pickle
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data import (
    DatasetError,
    GenerationConfig,
    ShardShuffleSampler,
    WirelessDataset,
    WirelessEpisode,
    generate_dataset,
)
from pyg_aggnn.data import storage as storage_module
from pyg_aggnn.wireless import physics

TINY = Path(__file__).resolve().parents[2] / "configs" / "data" / "tiny.yaml"


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    return generate_dataset(GenerationConfig.from_file(TINY), root, "tiny", progress=False)


@pytest.fixture
def copy_of(dataset_path, tmp_path):
    target = tmp_path / dataset_path.name
    shutil.copytree(dataset_path, target)
    return target


def _assert_same(a, b):
    assert set(a.keys()) == set(b.keys())
    for key in a.keys():
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("split", ["train", "val", "test", "larger", "async"])
def test_samples_equal_the_online_stream(dataset_path, split):
    dataset = WirelessDataset(dataset_path, split)
    config = GenerationConfig.from_file(TINY)
    assert len(dataset) == config.splits[split].count
    assert dataset.num_slots == 6
    for k in range(len(dataset)):
        episode = dataset[k]
        assert isinstance(episode, WirelessEpisode)
        _assert_same(episode, config.episode(split, k))
    assert dataset.generation_config() == config


def test_repr_shards_and_batches(dataset_path):
    dataset = WirelessDataset(dataset_path, "train")
    assert (
        repr(dataset) == f"WirelessDataset({dataset_path.name!r}, split='train', len=20, shards=3)"
    )
    assert dataset.shard_bounds == [(0, 8), (8, 16), (16, 20)]
    loader = DataLoader(dataset, batch_size=5, sampler=ShardShuffleSampler(dataset, seed=1))
    seen = 0
    for batch in loader:
        assert batch.num_graphs == 5 and batch.x.shape == (30, 6, 1)
        rates = batch.rates(torch.full((30, 6), 2.0))
        assert torch.isfinite(physics.sum_rate(rates)).all()
        seen += batch.num_graphs
    assert seen == 20


def test_shards_are_read_lazily_with_a_bounded_cache(dataset_path, monkeypatch):
    loads = []
    real = storage_module.deserialize_episodes

    def counting(data, name="shard"):
        loads.append(name)
        return real(data, name)

    monkeypatch.setattr("pyg_aggnn.data.dataset.deserialize_episodes", counting)
    dataset = WirelessDataset(dataset_path, "train", cache_bytes=1)
    assert dataset.cache_shards == 1
    assert loads == []  # opening reads no shard
    dataset[0], dataset[7], dataset[3]
    assert loads == ["train/shard-00000.pt"]
    dataset[8], dataset[0]
    assert loads == ["train/shard-00000.pt", "train/shard-00001.pt", "train/shard-00000.pt"]
    assert len(dataset._cache) == 1
    # a pickled copy (a DataLoader worker) starts with an empty cache and works
    clone = pickle.loads(pickle.dumps(dataset))
    assert len(clone._cache) == 0
    _assert_same(clone[19], dataset[19])


def test_cache_budget_and_random_access(dataset_path, monkeypatch):
    loads = []
    real = storage_module.deserialize_episodes
    monkeypatch.setattr(
        "pyg_aggnn.data.dataset.deserialize_episodes",
        lambda data, name="shard": loads.append(name) or real(data, name),
    )
    dataset = WirelessDataset(dataset_path, "train")  # the whole split fits the default budget
    order = torch.randperm(20, generator=torch.Generator().manual_seed(0)).tolist()
    for k in order * 3:
        dataset[k]
    assert sorted(loads) == [f"train/shard-0000{k}.pt" for k in range(3)]  # each read once
    largest = max(e["bytes"] for e in dataset.manifest["splits"]["train"]["shards"])
    two = WirelessDataset(dataset_path, "train", cache_bytes=2 * largest)
    assert two.cache_shards == 2
    for k in range(20):
        two[k]
    assert len(two._cache) == 2


def test_thrashing_random_access_warns_once(dataset_path):
    small = WirelessDataset(dataset_path, "train", cache_bytes=1)
    generator = torch.Generator().manual_seed(0)
    with pytest.warns(UserWarning, match="ShardShuffleSampler"):
        for _ in range(6):
            for k in torch.randperm(20, generator=generator).tolist():
                small[k]
    calm = WirelessDataset(dataset_path, "train", cache_bytes=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in range(6):
            sampler = ShardShuffleSampler(calm, seed=epoch)
            for k in sampler:
                calm[k]


def test_returned_episodes_do_not_alias_the_cache(dataset_path):
    dataset = WirelessDataset(dataset_path, "train")
    first = dataset[2]
    first.x = first.x * 0 + 5
    del first.edge_weight
    again = dataset[2]
    assert bool((again.x == 1).all()) and "edge_weight" in again


def test_expected_config_matches_in_every_form(dataset_path):
    config = GenerationConfig.from_file(TINY)
    WirelessDataset(dataset_path, "val", expected_config=TINY)
    WirelessDataset(dataset_path, "val", expected_config=config)
    WirelessDataset(dataset_path, "val", expected_config=config.to_dict())


def test_expected_config_mismatch_says_what_differs(dataset_path, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(TINY.read_text().replace("seed: 0", "seed: 1").replace("val: 6", "val: 7"))
    with pytest.raises(ValueError) as info:
        WirelessDataset(dataset_path, "val", expected_config=other)
    message = str(info.value)
    assert "seed: files have 0, expected 1" in message
    assert "splits.val.count: files have 6, expected 7" in message
    assert "splits.train" not in message


def test_edited_config_json_is_detected(copy_of):
    path = copy_of / "config.json"
    path.write_text(path.read_text().replace('"delta":0.3', '"delta":0.4'))
    with pytest.raises(DatasetError, match="does not match the manifest"):
        WirelessDataset(copy_of, "train")


def test_directory_name_must_match_the_hash(copy_of, tmp_path):
    renamed = tmp_path / "tiny-0123456789"
    copy_of.rename(renamed)
    with pytest.raises(DatasetError, match="directory name says hash 0123456789"):
        WirelessDataset(renamed, "train")
    plain = tmp_path / "my-copy"
    renamed.rename(plain)
    assert len(WirelessDataset(plain, "train")) == 20  # a name without a hash is fine


def test_incomplete_or_missing_datasets_are_errors(copy_of, tmp_path):
    with pytest.raises(DatasetError, match="not a generated dataset"):
        WirelessDataset(tmp_path / "nothing", "train")
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["complete"] = False
    (copy_of / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="incomplete .* run the same pyg-aggnn generate"):
        WirelessDataset(copy_of, "train")
    (copy_of / "manifest.json").unlink()
    with pytest.raises(DatasetError, match="incomplete"):
        WirelessDataset(copy_of, "train")


def test_unknown_split_and_bad_arguments(dataset_path):
    with pytest.raises(ValueError, match="split must be one of"):
        WirelessDataset(dataset_path, "training")
    with pytest.raises(ValueError, match="cache_bytes"):
        WirelessDataset(dataset_path, "train", cache_bytes=0)


def test_verify_and_loading_name_the_bad_shard(copy_of):
    dataset = WirelessDataset(copy_of, "train")
    assert dataset.verify() == []
    shard = copy_of / "train" / "shard-00001.pt"
    data = bytearray(shard.read_bytes())
    data[-50] ^= 0x01
    shard.write_bytes(bytes(data))
    (copy_of / "async" / "shard-00000.pt").unlink()
    assert dataset.verify() == [
        "async/shard-00000.pt: missing",
        "train/shard-00001.pt: altered (sha256 differs from the manifest)",
    ]
    dataset[0]  # other shards still load
    with pytest.raises(DatasetError, match="shard train/shard-00001.pt .* is altered .*--repair"):
        dataset[9]
    unchecked = WirelessDataset(copy_of, "train", check_hashes=False)
    shard.write_bytes(bytes(data[:100]))
    with pytest.raises(DatasetError, match="truncated"):
        unchecked[9]
