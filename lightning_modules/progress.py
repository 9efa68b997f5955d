"""``LineProgressBar``: progress as plain lines, for logs, pipes and batch jobs."""

from __future__ import annotations

import sys
import time
from typing import Any

from lightning.pytorch.callbacks.progress.progress_bar import ProgressBar

from pyg_aggnn._validation import check_positive_int

__all__ = ["LineProgressBar"]

_SHOWN = ("sum_rate", "power_per_link", "violation")


class LineProgressBar(ProgressBar):
    """Progress printed as whole lines, never carriage returns.

    A terminal gets Lightning's live bar; when the output is not a TTY (a log file, a
    pipe, a batch job) use this one: it prints one line every ``every_n_steps``
    training steps (epoch, step, steps per second, the training sum rate, power per
    link and budget violation) and one line after every validation with the policy's
    sum rate beside each baseline's.

    Args:
        every_n_steps: training steps between two lines (default: ``50``).
    """

    def __init__(self, every_n_steps: int = 50):
        super().__init__()
        self.every_n_steps = check_positive_int("every_n_steps", every_n_steps)
        self._enabled = True
        self._start = time.perf_counter()
        self._start_step = 0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled and self.trainer.is_global_zero

    def _emit(self, text: str) -> None:
        if self.is_enabled:
            print(text, file=sys.stdout, flush=True)

    def on_train_start(self, trainer, pl_module) -> None:
        self._start, self._start_step = time.perf_counter(), trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int):
        step = trainer.global_step
        if step % self.every_n_steps:
            return
        rate = (step - self._start_step) / max(time.perf_counter() - self._start, 1e-9)
        total = trainer.max_steps if trainer.max_steps > 0 else None
        where = f"step {step}" + (f"/{total}" if total else "")
        # the module's current values (callback_metrics: those of the last written step)
        values = _format(
            getattr(pl_module, "train_metrics", None) or trainer.callback_metrics, "train", _SHOWN
        )
        self._emit(f"epoch {trainer.current_epoch} {where} ({rate:.1f} steps/s) {values}")

    def _evaluation_line(self, trainer, split: str) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        prefix = f"{split}/sum_rate_"
        names = sorted(key[len(prefix) :] for key in metrics if key.startswith(prefix))
        parts = [_format(metrics, split, _SHOWN)]
        parts += [f"{name} {float(metrics[prefix + name]):.4g}" for name in names]
        self._emit(f"{split} after step {trainer.global_step}: " + " | ".join(parts))

    def on_validation_end(self, trainer, pl_module) -> None:
        self._evaluation_line(trainer, "val")

    def on_test_end(self, trainer, pl_module) -> None:
        self._evaluation_line(trainer, "test")


def _format(metrics: dict, split: str, names: tuple[str, ...]) -> str:
    shown = [
        f"{name} {float(metrics[f'{split}/{name}']):.4g}"
        for name in names
        if f"{split}/{name}" in metrics
    ]
    return ", ".join(shown)
