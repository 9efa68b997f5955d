"""The papers' Agg-GNN head (10 layers of 1 feature) in model-free training, seed 0:
started above the logit it has to reach, its ReLU layers die within a few updates and
every link decides alike; started low (``readout_bias``), it is still alive after them.
(On other seeds the low start only delays the death: see docs/training.md.)
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


@pytest.mark.parametrize(("readout_bias", "alive"), [(None, False), (-2.0, True)])
def test_the_single_feature_stack_dies_at_once_unless_it_starts_low(tmp_path, readout_bias, alive):
    extra = [] if readout_bias is None else ["--model.policy.init_args.readout_bias", "-2.0"]
    spread = _spread_after(tmp_path, 30, *extra)
    assert (spread > 1e-2) if alive else (spread < 1e-6)
