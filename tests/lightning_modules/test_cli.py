import math
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch import Callback

from lightning_modules.checkpoints import load_module
from lightning_modules.cli import AggGNNCLI, result_table, train
from lightning_modules.primal_dual import PrimalDualModule
from pyg_aggnn.on_air import default_policy_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
EXPERIMENTS = sorted(p for p in CONFIGS.rglob("*.yaml") if "data" not in p.parts)
SMALL = ["--data.val_size", "4", "--data.test_size", "4", "--data.eval_batch_size", "4"]


@pytest.fixture(autouse=True)
def _command_line(monkeypatch):
    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])


def _built(args, root):
    cli = AggGNNCLI(args=[*args, "--trainer.default_root_dir", str(root)], run=False)
    model, data = cli.model, cli.datamodule
    return {
        "policy": repr(model.policy),
        "problem": repr(model.problem),
        "module": [getattr(model, k) for k in ("mode", "lr", "action_samples", "warmup_slots")],
        "duals": model.duals.extra_repr(),
        "scenario": repr(data.scenarios),
        "data": [
            getattr(data, k)
            for k in ("network", "num_slots", "batch_size", "batches_per_epoch", "val_size")
        ],
        "layout": data.layout.tx_pos.tolist(),
        "trainer": [cli.trainer.max_epochs, cli.trainer.default_root_dir],
    }


def test_default_config_is_the_builtin_default(tmp_path):
    builtin = _built([], tmp_path)
    assert builtin == _built(["--config", str(CONFIGS / "default.yaml")], tmp_path)
    assert "AggGNN(K=5" in builtin["policy"] and "AdHoc(num_links=25" in builtin["scenario"]


def test_print_config_shows_the_complete_configuration(capsys):
    with pytest.raises(SystemExit):
        AggGNNCLI(args=["fit", "--config", str(CONFIGS / "adhoc_m50.yaml"), "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["policy"]["init_args"]["K"] == 6
    assert config["model"]["policy"]["init_args"]["readout"] == "linear"
    assert config["data"]["scenario"]["init_args"]["num_links"] == 50
    assert config["data"]["scenario"]["init_args"]["delta"] == 0.3
    assert config["trainer"]["max_epochs"] == 20


def test_print_config_spells_out_the_default_policy_problem_and_scenario(capsys):
    with pytest.raises(SystemExit):
        AggGNNCLI(args=["fit", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["policy"] == default_policy_config()
    assert config["model"]["problem"]["class_path"] == "pyg_aggnn.problem.PowerProblem"
    assert config["data"]["scenario"]["init_args"]["num_links"] == 25
    # another policy on the command line gets its own defaults, not the default's
    with pytest.raises(SystemExit):
        AggGNNCLI(args=["fit", "--model.policy", "SelectionGNN", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["policy"]["init_args"]["num_layers"] == 10


@pytest.mark.parametrize("config", EXPERIMENTS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_experiment_config_builds(config, tmp_path):
    cli = AggGNNCLI(
        args=["--config", str(config), "--trainer.default_root_dir", str(tmp_path), *SMALL],
        run=False,
    )
    assert isinstance(cli.model, PrimalDualModule)
    batch = next(iter(cli.datamodule.val_dataloader()))
    power, *_ = cli.model.allocate(batch)
    assert power.shape == (batch.num_nodes, batch.num_slots, 1)
    assert bool((power >= 0).all()) and bool((power <= batch.max_power[:, None, None]).all())


@pytest.mark.parametrize("config", ["default.yaml", "wcgcn/gaussian_ic_k10_0db.yaml"])
def test_fast_dev_run_through_lightning_cli(config, tmp_path):
    args = ["fit", "--config", str(CONFIGS / config), "--trainer.fast_dev_run", "2"]
    args += ["--trainer.default_root_dir", str(tmp_path), "--data.batch_size", "4", *SMALL]
    cli = AggGNNCLI(args=args)
    metrics = cli.trainer.callback_metrics
    assert cli.trainer.global_step == 2
    assert {"train/sum_rate", "val/sum_rate", "val/sum_rate_wmmse", "val/violation"} <= set(metrics)
    assert all(torch.isfinite(value) for value in metrics.values())


def test_train_prints_the_result_against_the_baselines(tmp_path, capsys):
    args = ["--trainer.max_steps", "3", "--trainer.default_root_dir", str(tmp_path)]
    args += ["--data.batch_size", "4", "--data.batches_per_epoch", "3", *SMALL]
    args += ["--trainer.log_every_n_steps", "1"]
    assert train(args) == 0
    out = capsys.readouterr().out
    for row in ("AggGNN", "wmmse", "equal", "random"):
        assert row in out
    # the run can be resumed and its checkpoint loads without repeating the config
    (checkpoint,) = tmp_path.rglob("last.ckpt")
    module = PrimalDualModule.load_from_checkpoint(checkpoint, weights_only=True)
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    for name, value in module.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert module.duals.size == 25
    # and through the package's safe loader, as pyg-aggnn evaluate reads it
    loaded = load_module(checkpoint)
    assert repr(loaded.policy) == repr(module.policy) and not loaded.training


def test_result_table_lists_policy_and_baselines():
    metrics = {
        "test/sum_rate": 2.0,
        "test/power_per_link": 1.0,
        "test/violation": 0.01,
        "test/sum_rate_wmmse": 1.5,
        "test/power_per_link_wmmse": 0.5,
        "test/violation_wmmse": -0.5,
    }
    lines = result_table(metrics, policy="AggGNN").splitlines()
    assert lines[1].split() == ["AggGNN", "2.0000", "1.0000", "101.0%"]
    assert lines[2].split() == ["wmmse", "1.5000", "0.5000", "50.0%"]


# the user asked for LightningCLI's optimizer, which replaces the module's own
@pytest.mark.filterwarnings("ignore:`PrimalDualModule.configure_optimizers` will be overridden")
def test_lr_scheduler_steps_the_learning_rate_once_per_epoch(tmp_path):
    args = ["fit", "--trainer.max_epochs", "2", "--trainer.default_root_dir", str(tmp_path)]
    args += ["--trainer.log_every_n_steps", "1"]
    args += ["--data.batch_size", "4", "--data.batches_per_epoch", "1", *SMALL]
    args += ["--optimizer", "torch.optim.Adam", "--optimizer.lr", "0.01"]
    args += ["--lr_scheduler", "torch.optim.lr_scheduler.StepLR", "--lr_scheduler.step_size", "1"]
    args += ["--lr_scheduler.gamma", "0.5"]
    cli = AggGNNCLI(args=args)
    (group,) = cli.trainer.optimizers[0].param_groups
    assert group["lr"] == pytest.approx(0.01 * 0.5**2)


def _rates_during_fit(tmp_path, epochs: int, batches: int, schedule: list[str]) -> list[float]:
    """Adam's rate at the start of every training batch of a small fit."""
    rates = []

    class Rates(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            rates.append(trainer.optimizers[0].param_groups[0]["lr"])

    args = ["--trainer.max_epochs", str(epochs), "--trainer.default_root_dir", str(tmp_path)]
    args += ["--data.batch_size", "4", "--data.batches_per_epoch", str(batches), *SMALL]
    args += ["--model.lr", "0.01", *schedule]
    args += ["--trainer.limit_val_batches", "0", "--trainer.logger", "false"]
    cli = AggGNNCLI(args=args, run=False)
    cli.trainer.callbacks.append(Rates())
    cli.trainer.fit(cli.model, cli.datamodule)
    return rates


def test_cosine_decay_falls_from_the_rate_to_a_hundredth_over_the_steps(tmp_path):
    rates = _rates_during_fit(tmp_path, 3, 3, ["--model.lr_decay", "cosine"])
    floor = 0.01 / 100
    want = [floor + (0.01 - floor) * (1 + math.cos(math.pi * k / 9)) / 2 for k in range(9)]
    assert rates == pytest.approx(want)
    with pytest.raises(ValueError, match="lr_decay must be one of"):
        PrimalDualModule(lr_decay="linear")


def test_lr_scheduler_without_optimizer_is_refused(tmp_path):
    args = ["--lr_scheduler", "torch.optim.lr_scheduler.StepLR", "--lr_scheduler.step_size", "1"]
    with pytest.raises(ValueError, match="lr_scheduler needs optimizer"):
        AggGNNCLI(args=[*args, "--trainer.default_root_dir", str(tmp_path)], run=False)


def test_lr_warmup_rises_from_a_tenth_to_the_rate_over_its_epochs(tmp_path):
    rates = _rates_during_fit(tmp_path, 6, 1, ["--model.lr_warmup_epochs", "4"])
    assert rates == pytest.approx([0.001, 0.00325, 0.0055, 0.00775, 0.01, 0.01])
    with pytest.raises(ValueError, match="lr_warmup_epochs"):
        PrimalDualModule(lr_warmup_epochs=-1)
