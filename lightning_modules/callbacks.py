"""``StallDetector``: a stalled training run must never pass for a result;
``BatchNormRecalibration``: evaluation normalises as training did.
"""

from __future__ import annotations

import math
import warnings

import torch
from lightning.pytorch import Callback

from pyg_aggnn._validation import check_in_range, check_non_negative, check_positive_int

__all__ = ["BatchNormRecalibration", "StallDetector", "StallWarning"]


class StallWarning(UserWarning):
    """A training run whose policy saturated, whose gradient vanished or whose links all
    decide alike.
    """


class StallDetector(Callback):
    r"""Log the saturation of a policy's outputs and its gradient norm; warn once when
    training stalls.

    After every ``every_n_steps``-th training step it logs

    * ``train/saturated``: the fraction of the step's decisions whose logit passes
      (almost) no gradient (the module's ``last_saturated``, see
      :meth:`~lightning_modules.PrimalDualModule.saturated_fraction`), and
    * ``train/grad_norm``: the Euclidean norm of the gradient of all trainable
      parameters (the gradient that the step's optimizer update used), and
    * ``train/logit_spread``: the standard deviation of the step's logits over the
      decisions (the module's ``last_spread``, see
      :meth:`~lightning_modules.PrimalDualModule.logit_spread`): ``0`` when every link
      decides alike, as a head whose ReLUs all died does, with a healthy gradient in
      its last bias,

    so they appear in ``metrics.csv``. A check *stalls* when the saturated fraction is at
    least ``saturated``, the gradient norm at most ``grad_norm`` or the logit spread at
    most ``spread``; after ``patience``
    training steps of consecutive stalled checks it warns once (on rank zero, a
    :class:`StallWarning`) with both numbers. :attr:`stalled_at` keeps the global step of that warning (``None``:
    no stall). :class:`~lightning_modules.PrimalDualModule` adds one by default
    (``detect_stalls``).

    A policy can also stall in evaluation only (e.g. normalisation statistics that
    trail the weights, see :class:`BatchNormRecalibration`): after every validation of a
    fit, when ``val/logit_spread`` (the module logs it) is at most ``spread`` while the
    last training step's is above it, it warns once as well; :attr:`eval_stalled_at`
    keeps that step.

    Args:
        saturated: saturated fraction that counts as stalled (default: ``0.95``).
        grad_norm: gradient norm at or below which the gradient has vanished
            (default: ``1e-7``).
        spread: logit spread at or below which every link decides alike
            (default: ``1e-5``).
        patience: training steps a stall must last before the warning (default: ``100``).
        every_n_steps: training steps between two checks (each check reads two numbers
            back from the device) (default: ``1``).
    """

    def __init__(
        self,
        saturated: float = 0.95,
        grad_norm: float = 1e-7,
        spread: float = 1e-5,
        patience: int = 100,
        every_n_steps: int = 1,
    ):
        self.saturated = check_in_range("saturated", saturated, 0.0, 1.0)
        self.grad_norm = check_non_negative("grad_norm", grad_norm)
        self.spread = check_non_negative("spread", spread)
        self.patience = check_positive_int("patience", patience)
        self.every_n_steps = check_positive_int("every_n_steps", every_n_steps)
        self.stalled_at: int | None = None
        self.eval_stalled_at: int | None = None
        self._since: int | None = None

    @staticmethod
    def gradient_norm(module) -> torch.Tensor:
        """Euclidean norm of the gradients of ``module``'s trainable parameters."""
        grads = [p.grad for p in module.parameters() if p.requires_grad and p.grad is not None]
        if not grads:
            return torch.zeros((), device=module.device)
        return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if (step - 1) % self.every_n_steps:
            return
        norm = self.gradient_norm(pl_module)
        saturated = getattr(pl_module, "last_saturated", None)
        spread = getattr(pl_module, "last_spread", None)
        logged = {"train/grad_norm": norm}
        if saturated is not None:
            logged["train/saturated"] = saturated
        if spread is not None:
            logged["train/logit_spread"] = spread
        record = getattr(pl_module, "record_train", None)
        if record is not None:  # a PrimalDualModule: logged on the steps that are written
            record(logged, on_step=True, on_epoch=False)
        else:
            pl_module.log_dict(logged, on_step=True, on_epoch=False)
        norm = float(norm)
        fraction = float("nan") if saturated is None else float(saturated)
        alike = float("nan") if spread is None else float(spread)
        stalled = (
            fraction >= self.saturated
            or norm <= self.grad_norm
            or alike <= self.spread
            or not math.isfinite(norm)
        )
        if not stalled:
            self._since = None
            return
        self._since = step if self._since is None else self._since
        if self.stalled_at is None and step - self._since + 1 >= self.patience:
            self.stalled_at = step
            name = type(getattr(pl_module, "policy", pl_module)).__name__
            if not trainer.is_global_zero:
                return
            alike_text = ""
            if alike <= self.spread:
                alike_text = (
                    f"; its logits are the same for every link (spread {alike:.3g}): it "
                    "cannot tell links apart (dead ReLUs, a vanished normalisation scale)"
                )
            warnings.warn(
                f"training of {name} has stalled for {step - self._since + 1} steps (step "
                f"{step}): {fraction:.1%} of its outputs are saturated (no gradient passes "
                f"them) and the gradient norm is {norm:.3g}{alike_text}. Its numbers are "
                "those of a stalled policy, not of the architecture; see train/saturated, "
                "train/grad_norm and train/logit_spread in metrics.csv (model-based: "
                "power_map='floor' or 'clip' keep the gradient back from the bounds).",
                StallWarning,
                stacklevel=1,  # attributed here: filters of Lightning's modules pass it
            )

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit" or self.eval_stalled_at:
            return
        evaluated = trainer.callback_metrics.get("val/logit_spread")
        trained = getattr(pl_module, "last_spread", None)
        if evaluated is None or trained is None:
            return
        evaluated, trained = float(evaluated), float(trained)
        if evaluated > self.spread or trained <= self.spread:
            return
        self.eval_stalled_at = trainer.global_step
        if trainer.is_global_zero:
            name = type(getattr(pl_module, "policy", pl_module)).__name__
            warnings.warn(
                f"{name} decides alike for every link in evaluation (step "
                f"{trainer.global_step}: logit spread {evaluated:.3g} against "
                f"{trained:.3g} in training): its validation and test numbers are those "
                "of a stalled policy. Batch-normalisation statistics that trail the "
                "weights do this (BatchNormRecalibration, the module's norm_batches); see "
                "val/logit_spread in metrics.csv.",
                StallWarning,
                stacklevel=1,
            )

    def state_dict(self) -> dict:
        return {
            "stalled_at": self.stalled_at,
            "since": self._since,
            "eval_stalled_at": self.eval_stalled_at,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.stalled_at = state_dict.get("stalled_at")
        self._since = state_dict.get("since")
        self.eval_stalled_at = state_dict.get("eval_stalled_at")


class BatchNormRecalibration(Callback):
    r"""Recompute the batch-normalisation statistics of the policy with its current
    weights before every validation of a fit and once training ends
    (:func:`pyg_aggnn.nn.recalibrate_batch_norm`), so that validation, test and the
    saved model normalise as training did, not with running averages of earlier
    weights (why: :mod:`pyg_aggnn.nn.norm_statistics`).

    The statistics are averaged over the first ``num_batches`` batches of a fresh pass
    over the training loader (the same batches on every call of an epoch; PyTorch's
    random state is restored afterwards, so training draws what it would have drawn).
    A policy without batch normalisation costs nothing. ``PrimalDualModule`` adds one
    (``norm_batches``, default ``16``; ``0`` turns it off) unless the trainer has one.

    Args:
        num_batches: training batches to average over (default: ``16``).
    """

    def __init__(self, num_batches: int = 16):
        self.num_batches = check_positive_int("num_batches", num_batches)
        #: Batches used by the last recalibration (``0``: none yet, or nothing to do).
        self.last_count = 0

    def _recalibrate(self, trainer, pl_module) -> None:
        from pyg_aggnn.nn.norm_statistics import batch_norm_layers, recalibrate_batch_norm

        policy = getattr(pl_module, "policy", pl_module)
        if not batch_norm_layers(policy):
            return
        loader = trainer.train_dataloader
        if loader is None and trainer.datamodule is not None:
            loader = trainer.datamodule.train_dataloader()
        if loader is None:
            return
        with torch.random.fork_rng(devices=[]):
            batches = (batch for _, batch in zip(range(self.num_batches), loader))
            self.last_count = recalibrate_batch_norm(policy, batches, device=pl_module.device)

    def on_validation_start(self, trainer, pl_module) -> None:
        if trainer.state.fn == "fit" and not trainer.sanity_checking:
            self._recalibrate(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._recalibrate(trainer, pl_module)
