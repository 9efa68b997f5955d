"""Training throughput: primal-dual policy-gradient steps per second of the shipped configs."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path
from typing import Any

import torch

__all__ = ["training_suite", "bench_trainer", "SETTINGS"]

# name -> LightningCLI arguments; the default is the classes' built-in configuration
SETTINGS: dict[str, list[str]] = {
    "default (ad-hoc m=25, Agg-GNN)": [],
    "adhoc_m50 (Agg-GNN)": ["--config", "configs/adhoc_m50.yaml"],
    "selection_gnn_m25 (Sel-GNN)": ["--config", "configs/selection_gnn_m25.yaml"],
    "wcgcn_d2d_m50 (WCGCN, max aggregation)": ["--config", "configs/wcgcn/d2d_m50.yaml"],
}


def bench_trainer(max_steps: int, callbacks: list):
    """A CPU ``Trainer`` that only trains: no logger, checkpoints, progress or validation."""
    from lightning.pytorch import Trainer

    return Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=callbacks,
    )


def training_suite(
    steps: int = 20, root: str | Path = ".", names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Time ``steps`` training steps (after 3 warm-up steps) of each setting on the CPU.

    Model and data come from the same configuration the CLI uses (``configs/`` under
    ``root``); settings whose config file is missing are skipped, and ``names`` (keys
    of :data:`SETTINGS`, default: all) selects some.
    """
    from lightning.pytorch import Callback

    from lightning_modules.cli import AggGNNCLI

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    class StepTimer(Callback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self._start = 0.0

        def on_train_batch_start(self, *args) -> None:
            self._start = time.perf_counter()

        def on_train_batch_end(self, *args) -> None:
            self.times.append(time.perf_counter() - self._start)

    rows = []
    for name, args in SETTINGS.items():
        if names is not None and name not in names:
            continue
        if args and not (Path(root) / args[1]).exists():
            continue
        args = [a if not a.endswith(".yaml") else str(Path(root) / a) for a in args]
        cli = AggGNNCLI(args=[*args, "--trainer.logger=false"], run=False)
        torch.manual_seed(0)
        timer = StepTimer()
        trainer = bench_trainer(steps + 3, [timer])
        start = time.perf_counter()
        trainer.fit(cli.model, cli.datamodule)
        wall = time.perf_counter() - start
        median = statistics.median(timer.times[3:])
        batch_size = cli.datamodule.batch_size
        rows.append(
            {
                "suite": "training",
                "config": name,
                "model": type(cli.model.policy).__name__,
                "steps": len(timer.times) - 3,
                "batch_size": batch_size,
                "median_step_s": median,
                "steps_per_s": 1.0 / median,
                "episodes_per_s": batch_size / median,
                "wall_s": wall,
            }
        )
    return rows
