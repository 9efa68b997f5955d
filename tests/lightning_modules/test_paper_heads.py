"""The papers' Agg-GNN head (10 layers of 1 feature) in model-free training, seed 0, Adam
at 0.01 from the start: read out by an affine map of a rectified last layer, its ReLU
layers die within a few updates and every link decides alike; with the shipped config's
final layer (unrectified, its output the logit) it is alive after them.
"""

from pathlib import Path

import pytest
import torch

from lightning_modules.cli import AggGNNCLI

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "paper_heads" / "adhoc_m25.yaml"


def _spread_after(tmp_path, steps, *extra):
    args = ["--config", str(CONFIG), "--trainer.max_steps", str(steps), *extra]
    args += ["--trainer.default_root_dir", str(tmp_path), "--trainer.logger", "false"]
    args += ["--trainer.limit_val_batches", "0"]
    args += ["--trainer.enable_progress_bar", "false", "--model.baselines", "{}"]
    cli = AggGNNCLI(args=args, run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    batch = next(iter(cli.datamodule.val_dataloader()))
    with torch.no_grad():
        logits = cli.model.policy.logits(batch)
    return float(logits.std())


@pytest.mark.parametrize(
    ("extra", "alive"),
    [(["--model.policy.init_args.readout", "last"], False), ([], True)],
)
def test_the_single_feature_stack_dies_with_a_rectified_last_layer(tmp_path, extra, alive):
    spread = _spread_after(tmp_path, 30, *extra)
    assert (spread > 1e-2) if alive else (spread < 1e-6)
