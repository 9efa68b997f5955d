import csv

import pytest
import torch
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.primal_dual import PrimalDualModule
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def _run(policy_factory, root, max_steps, ckpt_path=None, every_n_steps=None):
    torch.manual_seed(0)
    module = PrimalDualModule(policy_factory(), lr=0.05, step_mu=0.01, warmup_slots=1)
    scenario = AdHoc(num_links=6, activation=RandomSubsets(lam=3.0))
    data = WirelessDataModule(
        scenario, num_slots=4, batch_size=4, batches_per_epoch=3, val_size=8, eval_batch_size=4
    )
    checkpoint = ModelCheckpoint(
        dirpath=root / "checkpoints", save_top_k=-1, every_n_train_steps=every_n_steps
    )
    trainer = Trainer(
        accelerator="cpu",
        max_steps=max_steps,
        log_every_n_steps=1,
        logger=CSVLogger(root, name="log"),
        callbacks=[checkpoint],
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, data, ckpt_path=ckpt_path)
    return module, trainer


def _metrics(trainer):
    path = trainer.logger.log_dir + "/metrics.csv"
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return {
        (float(row["step"]), key): float(value)
        for row in rows
        for key, value in row.items()
        if value and key != "step" and key != "epoch"
    }


def _state(module, trainer):
    state = dict(module.state_dict())
    for group, values in enumerate(trainer.optimizers[0].state_dict()["state"].values()):
        state.update({f"opt{group}.{k}": v for k, v in values.items() if torch.is_tensor(v)})
    return state


# Lightning's cautions about resuming, which this test meets by construction: the
# online stream restarts at the global step (Lightning cannot know it), the checkpoint
# is written after the primal and the dual step alike, and the resumed run writes its
# own checkpoints and logs elsewhere so that they can be compared
@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before")
@pytest.mark.filterwarnings("ignore:Using ModelCheckpoint with manual optimization")
@pytest.mark.filterwarnings("ignore:Be aware that when using `ckpt_path`, callbacks")
@pytest.mark.filterwarnings("ignore:The dirpath has changed from")
@pytest.mark.parametrize("stop", ["epoch_end", "mid_epoch"])
def test_resumed_run_equals_the_uninterrupted_one(tiny_policy, tmp_path, stop):
    full_module, full = _run(tiny_policy, tmp_path / "full", max_steps=6)
    every = 2 if stop == "mid_epoch" else None
    _run(tiny_policy, tmp_path / "first", max_steps=every or 3, every_n_steps=every)
    (checkpoint,) = (tmp_path / "first" / "checkpoints").glob("*.ckpt")
    resumed_module, resumed = _run(tiny_policy, tmp_path / "second", 6, ckpt_path=checkpoint)
    assert resumed.global_step == full.global_step == 6
    want, got = _state(full_module, full), _state(resumed_module, resumed)
    assert set(got) == set(want)
    for name in want:
        assert torch.equal(got[name], want[name]), name
    full_metrics, resumed_metrics = _metrics(full), _metrics(resumed)
    after = {key: value for key, value in full_metrics.items() if int(key[0]) > (every or 3)}
    assert after and any(key[1].startswith("val/") for key in after)
    assert any(key[1] == "train/mu_power" and value > 0 for key, value in after.items())
    assert {key for key in resumed_metrics if int(key[0]) > (every or 3)} == set(after)
    for key, value in after.items():
        assert resumed_metrics[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_checkpoints_record_the_training_scenario(tmp_path):
    """A ``fit`` checkpoint names its scenario, so ``pyg-aggnn evaluate`` defaults to it
    (before, it fell back to the 25-link default network without a word), and its
    Lightning file name (``epoch=E-step=S.ckpt``) is read as a path, not as NAME=PATH."""
    from pathlib import Path

    from lightning_modules.cli import AggGNNCLI
    from pyg_aggnn.data.config import scenario_to_config
    from pyg_aggnn.evaluation.checkpoints import training_scenario
    from pyg_aggnn.evaluation.cli import main as evaluate_main

    config = Path(__file__).resolve().parents[2] / "configs" / "adhoc_m50_async.yaml"
    args = ["--config", str(config), "--trainer.max_steps", "1", "--data.batch_size", "2"]
    args += ["--trainer.default_root_dir", str(tmp_path), "--trainer.limit_val_batches", "0"]
    args += ["--trainer.enable_progress_bar", "false", "--model.baselines", "{}"]
    cli = AggGNNCLI(args=args, run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    path = next(tmp_path.glob("**/epoch=*.ckpt"))
    expected = scenario_to_config(cli.datamodule.scenarios[0])
    assert scenario_to_config(training_scenario(path)) == expected
    assert expected["init_args"]["activation"]["class_path"].endswith("RandomSubsets")
    out = tmp_path / "eval"
    evaluate_main([str(path), "--episodes", "2", "--baselines", "equal", "--out", str(out)])
    assert "m=50" in (out / "summary.csv").read_text()
