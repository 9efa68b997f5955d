"""A short training run on the real default config must beat the baselines by a margin."""

import torch

from lightning_modules.cli import AggGNNCLI


def test_short_run_beats_equal_and_random_power(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])
    torch.set_num_threads(1)
    args = ["--trainer.max_epochs", "3", "--trainer.default_root_dir", str(tmp_path)]
    args += ["--data.batches_per_epoch", "40", "--data.batch_size", "16", "--data.val_size", "64"]
    cli = AggGNNCLI(args=args, run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    assert cli.trainer.global_step == 120
    assert metrics["val/sum_rate"] > 1.15 * metrics["val/sum_rate_equal"], metrics
    assert metrics["val/sum_rate"] > 1.5 * metrics["val/sum_rate_random"], metrics
    assert metrics["val/violation"] < 0.25, metrics  # still settling after 120 steps
