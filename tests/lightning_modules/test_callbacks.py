import copy
import csv
import warnings

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from lightning_modules.callbacks import BatchNormRecalibration, StallDetector, StallWarning
from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.primal_dual import PrimalDualModule
from lightning_modules.problem import PowerProblem
from pyg_aggnn.experiments.cli import _quiet
from pyg_aggnn.nn import MLPPolicy, recalibrate_batch_norm
from pyg_aggnn.nn.norm_statistics import batch_norm_layers
from pyg_aggnn.nn.policy import PowerPolicy
from pyg_aggnn.wireless import GaussianIC


class BiasedPolicy(PowerPolicy):
    """A per-node linear policy on the log direct gain with a chosen starting bias."""

    def __init__(self, bias: float):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        with torch.no_grad():
            self.linear.weight.fill_(0.1)
            self.linear.bias.fill_(bias)

    def logits(self, batch, all_slots: bool = False):
        gain = torch.log(batch.direct_gain.clamp_min(1e-12))[..., None]
        out = self.linear(gain).squeeze(-1)
        return out if all_slots else out[:, -1]


class ConstantPolicy(PowerPolicy):
    """One logit for every link, whatever the channel: what a head whose ReLUs all died
    computes (its last bias), with a healthy gradient in that bias.
    """

    def __init__(self, bias: float):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor(bias))

    def logits(self, batch, all_slots: bool = False):
        out = self.bias.expand(batch.x.shape[:2])
        return out if all_slots else out[:, -1]


def _module(policy, power_map="clip", mode="model_based", lr=1e-3, **kwargs):
    """A sum-rate module without baselines around ``policy``."""
    problem = PowerProblem(power_budget=False)
    return PrimalDualModule(
        policy,
        problem,
        mode=mode,
        power_map=power_map,
        lr=lr,
        warmup_slots=0,
        baselines={},
        **kwargs,
    )


def _fit(
    tmp_path,
    bias,
    power_map,
    mode="model_based",
    steps=30,
    quiet=False,
    policy=None,
    log_every_n_steps=1,
    callbacks=(),
):
    torch.manual_seed(0)
    module = _module(BiasedPolicy(bias) if policy is None else policy, power_map, mode=mode)
    data = WirelessDataModule(
        GaussianIC(num_links=4),
        network="random",
        num_slots=1,
        batch_size=8,
        batches_per_epoch=steps,
        val_size=8,
        test_size=8,
    )
    trainer = Trainer(
        max_epochs=1,
        callbacks=[StallDetector(patience=10), *callbacks],
        default_root_dir=tmp_path,
        logger=CSVLogger(tmp_path),
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        log_every_n_steps=log_every_n_steps,
        limit_val_batches=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if quiet:  # the filters of pyg-aggnn reproduce
            _quiet()
        trainer.fit(module, data)
    detector = next(c for c in trainer.callbacks if isinstance(c, StallDetector))
    stalls = [w for w in caught if issubclass(w.category, StallWarning)]
    return trainer, detector, stalls


def _logged(trainer, key):
    with open(f"{trainer.logger.log_dir}/metrics.csv") as handle:
        return [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]


def test_saturated_sigmoid_policy_triggers_the_warning_once(tmp_path):
    trainer, detector, stalls = _fit(tmp_path, bias=30.0, power_map="sigmoid")
    assert detector.stalled_at == 10
    assert len(stalls) == 1
    message = str(stalls[0].message)
    assert "BiasedPolicy" in message and "100.0% of its outputs are saturated" in message
    saturated = _logged(trainer, "train/saturated")
    assert len(saturated) == 30 and min(saturated) == 1.0
    assert max(_logged(trainer, "train/grad_norm")) == 0.0  # sigmoid(30) == 1 in float32


class _EveryStep(Callback):
    """The module's training metrics after every step (the stall detector's included)."""

    def __init__(self):
        self.seen = {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen[trainer.global_step] = {k: float(v) for k, v in pl_module.train_metrics.items()}


def test_training_metrics_are_logged_on_the_written_steps_only(tmp_path):
    every = _EveryStep()
    trainer, _, _ = _fit(
        tmp_path, bias=0.0, power_map="clip", steps=10, log_every_n_steps=4, callbacks=[every]
    )
    assert sorted(every.seen) == list(range(1, 11))  # the callbacks see every step
    with open(f"{trainer.logger.log_dir}/metrics.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("train/sum_rate")]
    # Lightning writes steps 4 and 8; the last step is logged for callback_metrics
    assert [int(float(row["step"])) for row in rows] == [4, 8]
    for row in rows:
        seen = every.seen[int(float(row["step"]))]
        for key in ("train/sum_rate", "train/grad_norm", "train/saturated", "train/loss"):
            assert float(row[key]) == pytest.approx(seen[key], rel=1e-6)
    metrics = trainer.callback_metrics
    assert float(metrics["step"]) == 10.0
    assert float(metrics["train/sum_rate"]) == pytest.approx(every.seen[10]["train/sum_rate"])


def test_the_warning_is_not_silenced_by_the_experiments_filters(tmp_path):
    _, _, stalls = _fit(tmp_path, bias=30.0, power_map="sigmoid", quiet=True)
    assert len(stalls) == 1 and "has stalled" in str(stalls[0].message)


def test_the_same_start_with_the_clip_map_is_healthy(tmp_path):
    trainer, detector, stalls = _fit(tmp_path, bias=30.0, power_map="clip")
    assert detector.stalled_at is None and not stalls
    assert max(_logged(trainer, "train/saturated")) == 0.0
    assert min(_logged(trainer, "train/grad_norm")) > 1e-4
    assert min(_logged(trainer, "train/logit_spread")) > 1e-3  # links told apart


def test_collapsed_bernoulli_policy_triggers_the_warning(tmp_path):
    _, detector, stalls = _fit(tmp_path, bias=-30.0, power_map="clip", mode="model_free")
    assert detector.stalled_at is not None and len(stalls) == 1


def test_links_that_all_decide_alike_trigger_the_warning(tmp_path):
    trainer, detector, stalls = _fit(
        tmp_path, 0.0, "sigmoid", mode="model_free", policy=ConstantPolicy(0.0)
    )
    assert detector.stalled_at == 10 and len(stalls) == 1
    assert "logits are the same for every link (spread " in str(stalls[0].message)
    assert max(_logged(trainer, "train/logit_spread")) < 1e-8
    assert min(_logged(trainer, "train/grad_norm")) > 1e-4  # the gradient is fine
    assert max(_logged(trainer, "train/saturated")) == 0.0


def test_logit_spread_is_the_standard_deviation_over_the_decisions():
    logits = torch.tensor([[1.0, 5.0], [3.0, -7.0], [2.0, 100.0]])
    active = torch.tensor([[True, True], [True, False], [True, False]])
    decided = logits[active].numpy()
    expected = float(((decided - decided.mean()) ** 2).mean() ** 0.5)
    assert PrimalDualModule.logit_spread(logits, active).item() == pytest.approx(expected)
    assert PrimalDualModule.logit_spread(torch.full((4, 3), 2.5), torch.ones(4, 3)).item() == 0


def test_module_adds_a_detector_unless_there_is_one_or_it_is_disabled():
    module = PrimalDualModule(BiasedPolicy(0.0), baselines={})
    trainer = Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    module.trainer = trainer
    (added,) = module.configure_callbacks()
    assert isinstance(added, StallDetector)
    trainer = Trainer(logger=False, callbacks=[StallDetector(patience=3)])
    module.trainer = trainer
    assert module.configure_callbacks() == []
    off = PrimalDualModule(BiasedPolicy(0.0), baselines={}, detect_stalls=False)
    off.trainer = Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert off.configure_callbacks() == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"saturated": 1.5},
        {"grad_norm": -1.0},
        {"spread": -1.0},
        {"patience": 0},
        {"every_n_steps": 0},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        StallDetector(**kwargs)


def _fit_mlp(tmp_path, norm_batches, val_every=5):
    torch.manual_seed(0)
    module = _module(MLPPolicy(4, hidden_channels=[8]), lr=1e-2, norm_batches=norm_batches)
    data = WirelessDataModule(
        GaussianIC(num_links=4),
        network="random",
        num_slots=1,
        batch_size=8,
        train_size=80,
        val_size=8,
        test_size=8,
    )
    trainer = Trainer(
        max_epochs=2,
        val_check_interval=val_every,
        default_root_dir=tmp_path,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(module, data)
    return trainer, module, data


def test_batch_norm_statistics_are_those_of_the_final_weights(tmp_path):
    trainer, module, data = _fit_mlp(tmp_path, norm_batches=3)
    (callback,) = [c for c in trainer.callbacks if isinstance(c, BatchNormRecalibration)]
    assert callback.last_count == 3
    reference = copy.deepcopy(module.policy)
    loader = trainer.train_dataloader  # the first batches of a fresh pass, as the callback
    recalibrate_batch_norm(reference, [batch for _, batch in zip(range(3), loader)])
    for ours, theirs in zip(batch_norm_layers(module.policy), batch_norm_layers(reference)):
        torch.testing.assert_close(ours.running_mean, theirs.running_mean)
        torch.testing.assert_close(ours.running_var, theirs.running_var)


def test_recalibration_leaves_training_unchanged(tmp_path):
    _, with_it, _ = _fit_mlp(tmp_path / "on", norm_batches=3)
    trainer, without, _ = _fit_mlp(tmp_path / "off", norm_batches=0)
    assert not any(isinstance(c, BatchNormRecalibration) for c in trainer.callbacks)
    for (name, ours), (_, theirs) in zip(
        with_it.policy.named_parameters(), without.policy.named_parameters()
    ):
        assert torch.equal(ours, theirs), name


def test_only_batch_normalised_policies_get_the_recalibration(tmp_path):
    trainer, _, _ = _fit(tmp_path, bias=0.0, power_map="clip", steps=2)
    assert not any(isinstance(c, BatchNormRecalibration) for c in trainer.callbacks)


class EvaluationOnlyConstant(BiasedPolicy):
    """Healthy in training, one logit for every link in evaluation: what a policy whose
    normalisation statistics trail its weights computes.
    """

    def logits(self, batch, all_slots: bool = False):
        out = super().logits(batch, all_slots)
        return out if self.training else out.detach() * 0 + self.linear.bias


def _fit_with_validation(tmp_path, policy):
    torch.manual_seed(0)
    module = _module(policy)
    data = WirelessDataModule(
        GaussianIC(num_links=4), network="random", num_slots=1, batch_size=8, batches_per_epoch=5
    )
    detector = StallDetector()
    trainer = Trainer(
        max_epochs=2,
        callbacks=[detector],
        default_root_dir=tmp_path,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(module, data)
    stalls = [w for w in caught if issubclass(w.category, StallWarning)]
    return trainer, detector, stalls


def test_a_policy_that_decides_alike_only_in_evaluation_is_reported(tmp_path):
    trainer, detector, stalls = _fit_with_validation(tmp_path, EvaluationOnlyConstant(0.0))
    assert float(trainer.callback_metrics["val/logit_spread"]) < 1e-6
    assert detector.eval_stalled_at == 5 and detector.stalled_at is None
    assert len(stalls) == 1 and "decides alike for every link in evaluation" in str(
        stalls[0].message
    )


def test_a_healthy_policy_is_not_reported_in_evaluation(tmp_path):
    trainer, detector, stalls = _fit_with_validation(tmp_path, BiasedPolicy(0.0))
    assert float(trainer.callback_metrics["val/logit_spread"]) > 1e-3
    assert detector.eval_stalled_at is None and not stalls
