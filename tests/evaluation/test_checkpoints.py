import pytest
import torch

from lightning_modules.checkpoints import load_module
from pyg_aggnn.evaluation.checkpoints import POLICY_KEY, load_policy, policy_from_config
from pyg_aggnn.nn import AggGNN, SelectionGNN
from pyg_aggnn.wireless import AdHoc


def test_round_trip_gives_the_same_policy(tiny_run):
    module = load_module(tiny_run.checkpoint)
    stored = torch.load(tiny_run.checkpoint, weights_only=True)
    assert stored[POLICY_KEY]["class_path"] == "pyg_aggnn.nn.AggGNN"
    assert isinstance(module.policy, AggGNN) and module.policy.K == 3
    weights = {
        k[len("policy.") :]: v for k, v in stored["state_dict"].items() if k.startswith("policy.")
    }
    for name, value in module.policy.state_dict().items():
        assert torch.equal(value, weights[name])
    assert not module.training


def test_loaded_module_allocates_like_the_trained_one(tiny_run):
    first, second = load_module(tiny_run.checkpoint), load_module(tiny_run.checkpoint)
    episode = AdHoc(5).episode(6, seed=3)
    episode.sample_id = torch.tensor([0])
    assert torch.equal(first.allocate(episode)[0], second.allocate(episode)[0])


def test_policy_from_config_accepts_short_names():
    policy = policy_from_config({"class_path": "SelectionGNN", "init_args": {"num_layers": 2}})
    assert isinstance(policy, SelectionGNN)


def test_bad_inputs_raise_value_errors(tmp_path):
    with pytest.raises(ValueError, match="checkpoint"):
        load_module(tmp_path / "missing.ckpt")
    with pytest.raises(ValueError, match="class_path"):
        policy_from_config({"class_path": "torch.nn.Linear"})
    torch.save({"state_dict": {}, "hyper_parameters": {}}, tmp_path / "bare.ckpt")
    with pytest.raises(ValueError, match="policy configuration"):
        load_module(tmp_path / "bare.ckpt")


def test_power_map_is_kept_and_older_checkpoints_get_the_sigmoid(tiny_run, tmp_path):
    assert load_module(tiny_run.checkpoint).power_map == "floor"
    stored = torch.load(tiny_run.checkpoint, weights_only=True)
    stored["hyper_parameters"]["power_map"] = "sigmoid"
    torch.save(stored, tmp_path / "sigmoid.ckpt")
    assert load_module(tmp_path / "sigmoid.ckpt").power_map == "sigmoid"
    del stored["hyper_parameters"]["power_map"]  # written before power_map existed
    torch.save(stored, tmp_path / "older.ckpt")
    assert load_module(tmp_path / "older.ckpt").power_map == "sigmoid"


def test_load_policy_puts_on_the_air_what_the_training_module_does(tiny_run):
    module, policy = load_module(tiny_run.checkpoint), load_policy(tiny_run.checkpoint)
    assert repr(policy.policy) == repr(module.policy) and not policy.training
    assert (policy.mode, policy.power_map, policy.seed, policy.warmup_slots) == (
        module.mode,
        module.power_map,
        module.seed,
        module.warmup_slots,
    )
    episode = AdHoc(5).episode(6, seed=3)
    episode.sample_id = torch.tensor([4])
    for first, second in zip(
        module.allocate(episode, samples=3), policy.allocate(episode, samples=3)
    ):
        assert torch.equal(first, second)


def test_load_policy_rebuilds_the_default_policy_of_older_checkpoints(tiny_run, tmp_path):
    stored = torch.load(tiny_run.checkpoint, weights_only=True)
    stored.pop(POLICY_KEY)
    stored["hyper_parameters"]["policy"] = None  # trained with the default policy
    stored["state_dict"] = {
        **{k: v for k, v in stored["state_dict"].items() if not k.startswith("policy.")},
        **{f"policy.{k}": v for k, v in AggGNN.compact().state_dict().items()},
    }
    torch.save(stored, tmp_path / "default.ckpt")
    assert repr(load_policy(tmp_path / "default.ckpt").policy) == repr(AggGNN.compact())
