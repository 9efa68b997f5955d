from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer

from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.primal_dual import PrimalDualModule
from pyg_aggnn.nn import AggGNN
from pyg_aggnn.wireless import AdHoc

pytestmark = pytest.mark.ddp

STEPS = 4


class SaveState(Callback):
    """Every rank writes its weights and duals when training ends."""

    def __init__(self, directory):
        self.directory = directory

    def on_train_end(self, trainer, pl_module):
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        torch.save(state, self.directory / f"rank{trainer.global_rank}.pt")


def _fit(directory, devices, batch_size):
    # a package model: the spawned processes unpickle it by its import path
    torch.manual_seed(0)
    policy = AggGNN(K=2, num_layers=2, hidden_channels=2, kernel_size=2)
    module = PrimalDualModule(policy, action_samples=1, lr=0.05, step_mu=0.01)
    data = WirelessDataModule(
        AdHoc(num_links=6), num_slots=4, batch_size=batch_size, batches_per_epoch=STEPS
    )
    trainer = Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp_spawn" if devices > 1 else "auto",
        max_steps=STEPS,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[SaveState(directory)],
    )
    trainer.fit(module, data)


def test_two_processes_hold_identical_duals_equal_to_one_process(tmp_path, monkeypatch):
    # the spawned processes import this module (its callback) by its package path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    single, spawned = tmp_path / "single", tmp_path / "ddp"
    single.mkdir(), spawned.mkdir()
    _fit(single, devices=1, batch_size=8)
    _fit(spawned, devices=2, batch_size=4)
    reference = torch.load(single / "rank0.pt")
    ranks = [torch.load(spawned / f"rank{r}.pt") for r in range(2)]
    assert set(ranks[0]) == set(reference)
    assert float(reference["duals.mu_power"]) > 0  # the duals moved
    for name, value in reference.items():
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        torch.testing.assert_close(ranks[0][name], value, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_command_line_ddp_starts_every_rank(tmp_path):
    """``pyg-aggnn fit --trainer.strategy ddp`` re-launches the same command per rank."""
    import shutil
    import subprocess
    import sys

    command = shutil.which("pyg-aggnn") or str(Path(sys.executable).parent / "pyg-aggnn")
    args = ["fit", "--trainer.accelerator", "cpu", "--trainer.devices", "2"]
    args += ["--trainer.strategy", "ddp", "--trainer.max_steps", "2"]
    args += ["--data.batches_per_epoch", "2", "--data.batch_size", "4", "--data.val_size", "4"]
    args += ["--trainer.default_root_dir", str(tmp_path)]
    done = subprocess.run([command, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "GLOBAL_RANK: 1" in done.stdout + done.stderr
    assert list(tmp_path.rglob("last.ckpt"))
