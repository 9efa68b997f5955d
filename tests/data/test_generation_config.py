import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from pyg_aggnn.data import GenerationConfig
from pyg_aggnn.data.generation_config import derive_seed, split_stream
from pyg_aggnn.wireless import AdHoc, RandomSubsets

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "data"


def _raw(**changes):
    raw = {
        "seed": 3,
        "num_slots": 5,
        "shard_size": 4,
        "scenario": {"class_path": "AdHoc", "init_args": {"num_links": 6}},
        "splits": {"train": 10, "test": {"count": 3}},
    }
    raw.update(changes)
    return raw


def test_canonical_form_is_resolved_and_idempotent():
    config = GenerationConfig.from_dict(_raw())
    canonical = config.to_dict()
    assert canonical["schema_version"] == 1 and canonical["seed"] == 3
    assert canonical["splits"]["train"] == {
        "count": 10,
        "network": "random",
        "num_slots": 5,
        "shard_size": 4,
        "scenario": canonical["scenario"],
    }
    again = GenerationConfig.from_dict(canonical)
    assert again.to_dict() == canonical and again.hash == config.hash
    assert len(config.short_hash) == 10 and config.hash.startswith(config.short_hash)
    assert config.directory_name("tiny") == f"tiny-{config.short_hash}"


def test_equivalent_configs_share_the_hash_and_changes_do_not():
    base = GenerationConfig.from_dict(_raw()).hash
    explicit = _raw(
        dtype="float32",
        network="random",
        scenario={
            "class_path": "pyg_aggnn.wireless.AdHoc",
            "init_args": {"num_links": 6, "p_max_total": 6.0, "reference_links": 6},
        },
        splits={"test": 3, "train": {"count": 10, "num_slots": 5}},
    )
    assert GenerationConfig.from_dict(explicit).hash == base
    assert GenerationConfig.from_dict(_raw(seed=4)).hash != base
    assert GenerationConfig.from_dict(_raw(shard_size=5)).hash != base
    assert GenerationConfig.from_dict(_raw(splits={"train": 10, "test": 4})).hash != base


def test_split_overrides_merge_into_the_raw_base_scenario():
    config = GenerationConfig.from_dict(
        _raw(
            splits={
                "larger": {
                    "count": 2,
                    "scenario": {"init_args": {"num_links": 12, "reference_links": 6}},
                },
                "slow": {"count": 2, "scenario": {"init_args": {"delta": 0.1}}},
                "async": {
                    "count": 2,
                    "scenario": {
                        "init_args": {
                            "activation": {"class_path": "RandomSubsets", "init_args": {"lam": 3}}
                        }
                    },
                },
                "replaced": {
                    "count": 2,
                    "scenario": {"class_path": "GaussianIC", "init_args": {"num_links": 4}},
                },
            }
        )
    )
    larger = config.scenario_of("larger")
    assert larger.num_links == 12 and larger.reference_links == 6
    assert larger.p_max_total == 12.0  # the budget follows the new size, not the base's
    assert config.scenario_of("slow").delta == 0.1 and config.scenario_of("slow").num_links == 6
    assert isinstance(config.scenario_of("async").activation, RandomSubsets)
    assert type(config.scenario_of("replaced")).__name__ == "GaussianIC"


def _reference_seed(*keys):
    words = [len(keys)]
    for key in keys:
        words += [key % 2**32, key // 2**32]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0]) // 2


def test_sample_seeds_follow_seed_sequence_and_split_name():
    config = GenerationConfig.from_dict(_raw())
    assert config.sample_seed("train", 7) == _reference_seed(3, 0, 7)
    assert config.sample_seed("test", 2) == _reference_seed(3, 2, 2)
    assert config.layout_seed() == _reference_seed(3, 3)
    named = GenerationConfig.from_dict(_raw(splits={"larger": 4}))
    key = int.from_bytes(hashlib.sha256(b"larger").digest()[:8], "little") | 2**63
    assert split_stream("larger") == key
    assert named.sample_seed("larger", 2) == _reference_seed(3, key, 2)
    seeds = [config.sample_seed("train", i) for i in range(10)]
    assert len(set(seeds)) == 10 and all(0 <= s < 2**63 for s in seeds)
    assert config.sample_seed("test", 0) != config.sample_seed("train", 0)
    # adding or renaming other splits does not move the samples of this one
    other = GenerationConfig.from_dict(_raw(splits={"train": 10, "zzz": 1}))
    assert [other.sample_seed("train", i) for i in range(10)] == seeds
    with pytest.raises(ValueError, match="index must be in"):
        config.sample_seed("train", 10)
    with pytest.raises(ValueError, match="split must be one of"):
        config.sample_seed("nope", 0)
    with pytest.raises(ValueError, match="below 2\\*\\*64"):
        derive_seed(-1)


def test_splits_equal_the_training_modules_online_stream():
    from pyg_aggnn.data import online, seeding

    for network in ("fixed", "random"):
        config = GenerationConfig.from_dict(_raw(network=network, splits={"train": 6, "val": 2}))
        scenario = config.scenario_of("train")
        layout = None
        if network == "fixed":
            layout = scenario.sample_layout(seeding.keyed_generator(3, seeding.Stream.LAYOUT))
        for split, stream in (("train", seeding.Stream.TRAIN), ("val", seeding.Stream.VAL)):
            for index in range(config.splits[split].count):
                expected = online.simulate([scenario], 5, 3, stream, index, layout)
                episode = config.episode(split, index)
                for key in episode.keys():
                    assert torch.equal(episode[key], expected[key]), (network, split, key)


def test_episode_is_the_scenario_episode_with_the_sample_seed():
    config = GenerationConfig.from_dict(_raw(dtype="float64"))
    episode = config.episode("train", 4)
    direct = AdHoc(6).episode(5, seed=config.sample_seed("train", 4), dtype=torch.float64)
    for key in direct.keys():
        assert torch.equal(episode[key], direct[key]), key


def test_fixed_network_shares_one_layout_random_does_not():
    fixed = GenerationConfig.from_dict(_raw(network="fixed", splits={"train": 5, "test": 2}))
    a, b, c = fixed.episode("train", 0), fixed.episode("train", 3), fixed.episode("test", 1)
    assert torch.equal(a.tx_pos, b.tx_pos) and torch.equal(a.tx_pos, c.tx_pos)
    assert not torch.equal(a.edge_gain, b.edge_gain)  # the fading still differs
    generator = torch.Generator().manual_seed(fixed.layout_seed())
    assert torch.equal(a.tx_pos, AdHoc(6).sample_layout(generator).tx_pos.float())
    random = GenerationConfig.from_dict(_raw())
    assert not torch.equal(random.episode("train", 0).tx_pos, random.episode("train", 1).tx_pos)
    assert random.layout("train") is None


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sed": 1}, "unknown config keys ['sed']"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"seed": 1.5}, "seed must be an integer >= 0"),
        ({"num_slots": 0}, "num_slots must be an integer >= 1"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"network": "static"}, "network must be one of"),
        ({"shard_size": 0}, "shard_size"),
        ({"schema_version": 2}, "schema_version must be 1"),
        ({"splits": {}}, "splits must be a non-empty mapping"),
        ({"splits": {"train": 0}}, "splits.train: count must be an integer >= 1"),
        ({"splits": {"../x": 1}}, "split names must match"),
        ({"splits": {"train": {"count": 1, "cnt": 2}}}, "splits.train has unknown keys ['cnt']"),
        (
            {"splits": {"t": {"count": 1, "scenario": {"init_args": {"delta": -1}}}}},
            "splits.t: scenario: delta",
        ),
        ({"scenario": {"class_path": "AdHoc", "init_args": {"eta0": -1}}}, "eta0"),
    ],
)
def test_bad_values_raise_value_error_naming_them(changes, message):
    with pytest.raises(ValueError) as info:
        GenerationConfig.from_dict(_raw(**changes))
    assert message in str(info.value)


def test_missing_sections_and_bad_yaml(tmp_path):
    with pytest.raises(ValueError, match="needs a 'splits' entry"):
        GenerationConfig.from_dict({"scenario": {"class_path": "AdHoc"}})
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1\n")
    with pytest.raises(ValueError, match="bad.yaml is not valid YAML"):
        GenerationConfig.from_file(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("scenario: {class_path: AdHoc}\nsplits: {train: 1}\nnum_slot: 3\n")
    with pytest.raises(ValueError, match="typo.yaml: unknown config keys"):
        GenerationConfig.from_file(typo)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configs_parse(path):
    config = GenerationConfig.from_file(path)
    assert config.num_slots >= 6  # room for an aggregation of K = 6 at the last slot
    assert GenerationConfig.from_dict(config.to_dict()) == config


def test_paper_configs():
    m50 = GenerationConfig.from_file(CONFIGS / "adhoc_m50.yaml")
    assert m50.scenario_of("train").num_links == 50 and m50.network == "fixed"
    assert m50.splits["train"].count == 10_000 and m50.num_slots >= 6
    assert m50.splits["new_networks"].network == "random"
    m25 = GenerationConfig.from_file(CONFIGS / "adhoc_m25.yaml")
    assert m25.scenario_of("train").num_links == 25 and m25.num_slots >= 5
    transfer = GenerationConfig.from_file(CONFIGS / "adhoc_m50_transfer.yaml")
    for name in ("m100", "m500", "m1000"):
        scenario = transfer.scenario_of(name)
        assert scenario.reference_links == 50 and scenario.num_links > 50
        assert scenario.half_width == pytest.approx((50 * scenario.num_links) ** 0.5)
    assert transfer.scenario_of("delta_0.1").delta == 0.1
    assert transfer.scenario_of("async").activation.lam == 25.0
