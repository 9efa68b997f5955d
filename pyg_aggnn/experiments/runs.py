r"""Training runs of the experiments: specified by value, trained once, reused after.

A :class:`RunSpec` names everything a run depends on; its directory
``<out>/runs/<name>-<hash of the spec>/`` holds ``model.ckpt`` (loadable by
:func:`~pyg_aggnn.evaluation.load_policy` and ``pyg-aggnn evaluate``), ``curve.csv``
(the training curve: validation points with every baseline, and training-batch
points) and ``run.json`` (the spec, the wall time). A run whose files exist is not
trained again, so experiments share runs (the training curves' models are the ones
the transference experiments evaluate) and an interrupted ``reproduce`` resumes at the
first unfinished run.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, Trainer

from lightning_modules.callbacks import StallDetector
from lightning_modules.checkpoints import load_module
from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.primal_dual import PrimalDualModule
from lightning_modules.progress import LineProgressBar
from pyg_aggnn.data.config import scenario_from_config, short_hash
from pyg_aggnn.evaluation.checkpoints import policy_from_config, save_module
from pyg_aggnn.evaluation.report import write_csv

__all__ = ["RunSpec", "Run", "train_run", "read_curve"]

# training points also keep what the stall detector logs
_CURVE_KEYS = ("sum_rate", "power_per_link", "violation", "saturated", "grad_norm", "logit_spread")


@dataclass(frozen=True)
class RunSpec:
    """One training run.

    Attributes:
        name: readable prefix of the run directory.
        policy: ``{"class_path", "init_args"}`` of the policy.
        scenario: ``{"class_path", "init_args"}`` of the training scenario.
        steps: policy updates.
        eval_every: steps between two validation points.
        batch_size: episodes per step.
        val_size: validation episodes (the same ones at every point).
        num_slots: slots per episode.
        network: ``"fixed"`` (one layout, the papers) or ``"random"``.
        module: further :class:`~lightning_modules.PrimalDualModule` arguments.
        seed: seed of the data, the layout, the actions and the initial weights.
        accelerator: Lightning accelerator.
    """

    name: str
    policy: dict
    scenario: dict
    steps: int
    eval_every: int
    batch_size: int
    val_size: int
    num_slots: int = 10
    network: str = "fixed"
    module: dict = field(default_factory=dict)
    seed: int = 0
    accelerator: str = "cpu"

    def key(self) -> str:
        """Directory name: the name and a hash of everything else."""
        config = asdict(self)
        config.pop("accelerator")  # where it ran does not change what it is
        return f"{self.name}-{short_hash(config)}"


@dataclass
class Run:
    """A finished run: its spec, directory and training curve; ``stalled_at`` is the step
    at which its :class:`~lightning_modules.StallDetector` warned (``None``: it stayed
    silent, or the run predates the record).
    """

    spec: RunSpec
    path: Path
    curve: list[dict[str, Any]]
    seconds: float
    stalled_at: int | None = None

    @property
    def checkpoint(self) -> Path:
        return self.path / "model.ckpt"

    def load(self, map_location: str = "cpu"):
        """The trained :class:`~lightning_modules.PrimalDualModule` (eval mode)."""
        return load_module(self.checkpoint, map_location=map_location)


class _CurveRecorder(Callback):
    """Collects validation points and periodic training-batch points."""

    def __init__(self, train_every: int):
        self.train_every = max(1, train_every)
        self.rows: list[dict[str, Any]] = []

    def _row(self, trainer, split: str, metrics=None) -> dict[str, Any]:
        prefix = f"{split}/"
        row: dict[str, Any] = {"step": int(trainer.global_step), "split": split}
        for key, value in (metrics or trainer.callback_metrics).items():
            if key.startswith(prefix):
                name = key[len(prefix) :]
                if split == "val" or name in _CURVE_KEYS:
                    row[name] = float(value)
        return row

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.rows.append(self._row(trainer, "val"))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.train_every == 0:
            # the module's current step (callback_metrics: the last written one)
            self.rows.append(self._row(trainer, "train", pl_module.train_metrics))


def read_curve(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``curve.csv`` (numbers as floats, empty cells dropped)."""
    rows = []
    with Path(path).open() as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {}
            for key, value in raw.items():
                if value in ("", None):
                    continue
                row[key] = value if key == "split" else float(value)
            rows.append(row)
    return rows


def train_run(spec: RunSpec, root: str | Path, log=print) -> Run:
    """Train ``spec`` under ``root/runs/`` (or reuse the finished run there).

    Args:
        spec: the run.
        root: the output root shared by the experiments.
        log: where progress lines go (default: ``print``).
    """
    path = Path(root) / "runs" / spec.key()
    done = path / "run.json"
    if done.is_file() and (path / "model.ckpt").is_file() and (path / "curve.csv").is_file():
        info = json.loads(done.read_text())
        log(f"[run] {spec.key()}: reusing the trained model")
        curve = read_curve(path / "curve.csv")
        return Run(spec, path, curve, float(info.get("seconds", 0)), info.get("stalled_at"))
    path.mkdir(parents=True, exist_ok=True)
    log(f"[run] {spec.key()}: training {spec.steps} steps")
    start = time.perf_counter()
    torch.manual_seed(spec.seed)
    policy = policy_from_config(spec.policy)
    data = WirelessDataModule(
        scenario=scenario_from_config(spec.scenario),
        network=spec.network,
        num_slots=spec.num_slots,
        batch_size=spec.batch_size,
        batches_per_epoch=spec.eval_every,
        val_size=spec.val_size,
        test_size=1,
        eval_batch_size=64,
        seed=spec.seed,
    )
    module = PrimalDualModule(policy, seed=spec.seed, **spec.module)
    recorder = _CurveRecorder(train_every=max(1, spec.eval_every // 5))
    trainer = Trainer(
        max_steps=spec.steps,
        max_epochs=-1,
        accelerator=spec.accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=max(1, spec.eval_every),  # nothing is written: logger=False
        callbacks=[LineProgressBar(every_n_steps=max(1, spec.eval_every)), recorder],
    )
    trainer.validate(module, data, verbose=False)  # the curve's first point: step 0
    trainer.fit(module, data)
    seconds = time.perf_counter() - start
    save_module(trainer, path / "model.ckpt", spec.policy, spec.scenario)
    write_csv(path / "curve.csv", recorder.rows)
    detectors = [c for c in trainer.callbacks if isinstance(c, StallDetector)]
    stalled_at = detectors[0].stalled_at if detectors else None
    info = {"spec": asdict(spec), "seconds": seconds, "stalled_at": stalled_at}
    done.write_text(json.dumps(info, indent=2) + "\n")
    sys.stdout.flush()
    return Run(spec, path, recorder.rows, seconds, stalled_at)
