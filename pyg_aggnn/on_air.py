r"""What a policy puts on the air: its decisions, drawn from keyed streams, held by
inactive nodes.

A policy (:class:`~pyg_aggnn.nn.PowerPolicy`) outputs one logit :math:`z_i(t)` per link
and slot. On the air, the decision of an active node is

* ``mode="model_free"`` (the papers): an action of the law :func:`power_distribution`,
  on/off :math:`p_i = p_{0,i} a_i`, :math:`a_i \sim \mathrm{Bernoulli}(\sigma(z_i))`, or
  a continuous fraction of a truncated Gaussian of scale :math:`s`; the uniforms behind
  the draws are keyed by ``(seed, stream, step, sample_id)`` of every episode
  (:func:`keyed_uniform`), so they do not depend on how the episodes are batched;
* ``mode="model_based"``: the deterministic power of ``power_map``
  (:func:`~pyg_aggnn.nn.power_map.continuous_power`); a beamforming policy
  (:class:`~pyg_aggnn.nn.BeamformingPolicy`, MISO channels) puts its beamformers on the
  air instead, and trains model-based only.

An inactive node holds the decision of its last active slot and is silent before its
first (:func:`~pyg_aggnn.wireless.holding.hold`); a decision is credited with the
rewards of the slots it is held for (:func:`~pyg_aggnn.wireless.holding.credit`).
Training (:class:`~lightning_modules.PrimalDualModule`) and evaluation
(:class:`OnAirPolicy`, :func:`~pyg_aggnn.evaluation.load_policy`) call the same
:func:`allocate`, so an evaluated checkpoint puts exactly the powers on the air that
training validated.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.data.batching import graph_index
from pyg_aggnn.data.seeding import Stream, keyed_generator
from pyg_aggnn.nn.agg_gnn import AggGNN
from pyg_aggnn.nn.policy import BernoulliPower, PowerPolicy
from pyg_aggnn.nn.power_distributions import DISTRIBUTIONS, TruncatedGaussianPower
from pyg_aggnn.nn.power_map import POWER_MAPS, continuous_power
from pyg_aggnn.wireless.holding import hold, last_active_slot
from pyg_aggnn.wireless.miso import transmit_power

__all__ = [
    "MODES",
    "DECISIONS",
    "DEFAULT_POLICY_PRESET",
    "default_policy",
    "default_policy_config",
    "OnAir",
    "OnAirPolicy",
    "allocate",
    "default_warmup_slots",
    "keyed_uniform",
    "power_distribution",
]

#: How decisions become powers: the papers' stochastic actions first.
MODES = ("model_free", "model_based")

#: How a model-free policy acts on the air: a draw of its law (the papers', and what
#: training optimises), or the law's mode (on where :math:`\sigma(z) > 1/2`; the
#: fraction :math:`\sigma(z)` of the truncated Gaussian), a deterministic policy with
#: the same information.
DECISIONS = ("draw", "mode")


#: The :attr:`~pyg_aggnn.nn.AggGNN.PRESETS` entry that training uses when no policy is
#: given (``pyg-aggnn train``, :meth:`~lightning_modules.PrimalDualModule.default_policy`).
DEFAULT_POLICY_PRESET = "compact"


def default_policy() -> PowerPolicy:
    """The default policy of training: the :class:`~pyg_aggnn.nn.AggGNN` preset
    :data:`DEFAULT_POLICY_PRESET` (``K = 5`` exchanges, a 3-layer CNN head of 4
    features, 5 taps and a linear readout).
    """
    return AggGNN.preset(DEFAULT_POLICY_PRESET)


def default_policy_config() -> dict:
    """:func:`default_policy` as ``{"class_path", "init_args"}``."""
    init_args = AggGNN.preset_args(DEFAULT_POLICY_PRESET)
    return {"class_path": f"{AggGNN.__module__.rpartition('.')[0]}.AggGNN", "init_args": init_args}


class OnAir(NamedTuple):
    """What :func:`allocate` puts on the air (``N`` links, ``T`` slots, ``S`` samples)."""

    #: ``[N, T, S]`` transmit powers in force at every slot (linear).
    power: Tensor
    #: ``[N, T]`` the policy's logits at every slot (``None`` for beamformers;
    #: ``[N, T, S]`` for a policy with feedback inputs and ``S > 1`` samples, whose
    #: logits differ between the samples' powers on the air).
    logits: Tensor | None
    #: ``[N, T, S]`` the drawn actions (model-free), ``[N, T, 1, N_t]`` complex
    #: beamformers (a beamforming policy), else ``None``.
    action: Tensor | None
    #: ``[N, T] long`` slot whose decision is in force (``-1``: none yet).
    source: Tensor

    @property
    def transmitted(self) -> Tensor:
        """What the physics reads (:meth:`~pyg_aggnn.data.WirelessEpisode.rates`): the
        beamformers of a beamforming policy, else :attr:`power`.
        """
        beams = self.action is not None and self.action.is_complex()
        return self.action if beams else self.power


def default_warmup_slots(policy: nn.Module) -> int:
    """Leading slots whose rewards are not scored while the policy's aggregation buffer
    fills: ``K - 1`` of a policy with ``K`` exchanges, else ``0``.
    """
    return max(int(getattr(policy, "K", 1)) - 1, 0)


def power_distribution(
    logits: Tensor, max_power: Tensor, scale: Tensor | None = None
) -> BernoulliPower | TruncatedGaussianPower:
    """The model-free action law of ``logits`` (``[N, *S]``) and ``max_power`` (``[N]``):
    a :class:`~pyg_aggnn.nn.BernoulliPower`, or with ``scale`` (a 0-dim tensor, the
    :math:`s` of the fraction) a :class:`~pyg_aggnn.nn.TruncatedGaussianPower`.
    """
    if scale is None:
        return BernoulliPower(logits, max_power)
    return TruncatedGaussianPower(logits, max_power, scale)


def keyed_uniform(batch, samples: int, seed: int, stream: int, step: int) -> Tensor:
    """Keyed uniform draws ``[N, T, samples]``, one stream per (step, episode).

    Episode ``b`` of the batch draws from ``(seed, stream, step, sample_id[b])`` (its
    position in the batch when there are no ``sample_id``).
    """
    _, ptr, num_graphs = graph_index(batch)
    ids = getattr(batch, "sample_id", None)
    ids = range(num_graphs) if ids is None else ids.reshape(-1).tolist()
    shape = (batch.num_slots, samples)
    draws = [
        torch.rand(size, *shape, generator=keyed_generator(seed, stream, step, int(key)))
        for size, key in zip((ptr[1:] - ptr[:-1]).tolist(), ids)
    ]
    return torch.cat(draws).to(device=batch.direct_gain.device, dtype=batch.direct_gain.dtype)


def allocate(
    policy: nn.Module,
    batch,
    mode: str = MODES[0],
    power_map: str = POWER_MAPS[0],
    scale: Tensor | None = None,
    seed: int = 0,
    stream: int = Stream.EVAL_ACTIONS,
    step: int = 0,
    samples: int = 1,
    decision: str = DECISIONS[0],
) -> OnAir:
    """The powers ``policy`` puts on the air at every slot of a (batched) episode.

    A policy with feedback inputs (``policy.feedback``, see
    :data:`~pyg_aggnn.nn.features.FEEDBACK_FEATURES`) is rolled out slot by slot: every
    sample decides at slot ``t`` from the powers its own draws put on the air before.

    Args:
        policy: a :class:`~pyg_aggnn.nn.PowerPolicy`.
        batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`.
        mode: :data:`MODES` (default: ``"model_free"``).
        power_map: the model-based power map, :data:`~pyg_aggnn.nn.power_map.POWER_MAPS`
            (default: ``"floor"``).
        scale: the truncated Gaussian's scale :math:`s` (0-dim tensor), or ``None``
            for on/off actions (default: ``None``).
        seed: seed of the action draws (default: ``0``).
        stream: the keyed stream (default: ``Stream.EVAL_ACTIONS``).
        step: the training step keying the draws (default: ``0``).
        samples: action draws per episode, model-free (default: ``1``).
        decision: :data:`DECISIONS`, model-free: every sample draws its actions
            (``"draw"``, the default) or takes the law's mode (``"mode"``, the same
            actions in every sample).

    Returns:
        :class:`OnAir` (``S = samples`` model-free, ``1`` model-based).
    """
    check_choice("decision", decision, DECISIONS)
    source = last_active_slot(batch.active)
    if getattr(policy, "beamforming", False):
        if mode != "model_based":
            raise ValueError(
                f"mode must be 'model_based' for the beamforming policy "
                f"{type(policy).__name__} (it draws no actions), got {mode!r}"
            )
        beams = hold(policy.beamformers(batch, all_slots=True), source)[:, :, None]
        return OnAir(transmit_power(beams), None, beams, source)  # [N, T, 1(, N_t)]
    if getattr(policy, "feedback", False):
        return _roll_out(
            policy, batch, mode, power_map, scale, seed, stream, step, samples, decision
        )
    logits = policy.logits(batch, all_slots=True)  # [N, T]
    if mode == "model_based":
        power = hold(continuous_power(logits, batch.max_power, power_map), source)
        return OnAir(power[..., None], logits, None, source)
    dist = power_distribution(logits[..., None].expand(-1, -1, samples), batch.max_power, scale)
    uniform = keyed_uniform(batch, samples, seed, stream, step) if decision == "draw" else None
    action = _act(dist, uniform)
    return OnAir(dist.power(hold(action, source)), logits, action, source)


def _act(dist, uniform: Tensor | None) -> Tensor:
    """Draws of ``dist`` from these uniforms, or its mode where there are none."""
    return dist.mode() if uniform is None else dist.sample(uniform=uniform)


def _roll_out(
    policy, batch, mode, power_map, scale, seed, stream, step, samples, decision
) -> OnAir:
    """:func:`allocate` for a policy with feedback inputs: slot by slot, each slot's
    decisions from the powers in force before it, then the logits of every slot in one
    pass (with gradients), which by causality are those of the rollout. The powers fed
    back enter as data: a model-based gradient does not flow through them.
    """
    source = last_active_slot(batch.active)
    model_free = mode == "model_free"
    samples = samples if model_free else 1
    num_nodes, num_slots = batch.active.shape
    power = batch.direct_gain.new_zeros(num_nodes, num_slots, samples)
    action = torch.zeros_like(power) if model_free else None
    draws = model_free and decision == "draw"
    uniform = keyed_uniform(batch, samples, seed, stream, step) if draws else None
    with torch.no_grad():
        for t in range(num_slots):
            logits = policy.feedback_logits(batch, power, slot=t)  # [N, S]
            if model_free:
                dist = power_distribution(logits, batch.max_power, scale)
                action[:, t] = _act(dist, None if uniform is None else uniform[:, t])
                fresh = dist.power(action[:, t])
            else:
                fresh = continuous_power(logits, batch.max_power, power_map)
            held = power[:, t - 1] if t > 0 else torch.zeros_like(fresh)
            power[:, t] = torch.where(batch.active[:, t, None], fresh, held)
    logits = policy.feedback_logits(batch, power)  # [N, T, S]
    if not model_free:
        power = hold(continuous_power(logits, batch.max_power, power_map), source)
        return OnAir(power, logits[..., 0], None, source)
    return OnAir(power, logits if samples > 1 else logits[..., 0], action, source)


class OnAirPolicy(nn.Module):
    """A trained policy with the settings it was trained to act with: what evaluation
    runs, rebuilt from a checkpoint without the training framework
    (:func:`~pyg_aggnn.evaluation.load_policy`).

    Args:
        policy: the :class:`~pyg_aggnn.nn.PowerPolicy`.
        mode: :data:`MODES` (default: ``"model_free"``).
        power_map: the model-based power map (default: ``"floor"``).
        distribution: the model-free law,
            :data:`~pyg_aggnn.nn.power_distributions.DISTRIBUTIONS`
            (default: ``"bernoulli"``).
        scale: the truncated Gaussian's scale :math:`s` (default: ``None``; needed with
            ``distribution="truncated_normal"``).
        seed: seed of the action draws (default: ``0``).
        warmup_slots: leading slots not scored (default: :func:`default_warmup_slots`).
        decision: :data:`DECISIONS`, model-free: draws (default) or the law's mode.
    """

    def __init__(
        self,
        policy: nn.Module,
        mode: str = MODES[0],
        power_map: str = POWER_MAPS[0],
        distribution: str = DISTRIBUTIONS[0],
        scale: float | Tensor | None = None,
        seed: int = 0,
        warmup_slots: int | None = None,
        decision: str = DECISIONS[0],
    ):
        super().__init__()
        if not isinstance(policy, nn.Module) or not callable(getattr(policy, "logits", None)):
            raise ValueError(f"policy must be a PowerPolicy, got {type(policy).__name__}")
        self.policy = policy
        self.mode = check_choice("mode", mode, MODES)
        self.power_map = check_choice("power_map", power_map, POWER_MAPS)
        self.distribution = check_choice("distribution", distribution, DISTRIBUTIONS)
        if (self.distribution == "truncated_normal") != (scale is not None):
            raise ValueError(
                f"scale must be given exactly with distribution='truncated_normal', got "
                f"scale={scale!r} with distribution={distribution!r}"
            )
        if scale is not None:
            scale = torch.as_tensor(scale, dtype=torch.get_default_dtype())
            if not bool(scale > 0):
                raise ValueError(f"scale must be > 0, got {float(scale)}")
            self.register_buffer("scale", scale.reshape(()))
        else:
            self.scale = None
        self.seed = check_positive_int("seed", seed, minimum=0)
        if warmup_slots is None:
            warmup_slots = default_warmup_slots(policy)
        self.warmup_slots = check_positive_int("warmup_slots", warmup_slots, minimum=0)
        self.decision = check_choice("decision", decision, DECISIONS)

    def allocate(
        self, batch, stream: int = Stream.EVAL_ACTIONS, step: int = 0, samples: int = 1
    ) -> OnAir:
        """:func:`allocate` with this policy's settings."""
        return allocate(
            self.policy,
            batch,
            self.mode,
            self.power_map,
            self.scale,
            self.seed,
            stream,
            step,
            samples,
            self.decision,
        )

    def forward(self, batch) -> Tensor:
        """Transmit probabilities of the wrapped policy at the decision slot, ``[N]``."""
        return self.policy(batch)

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode!r}, power_map={self.power_map!r}, "
            f"distribution={self.distribution!r}, seed={self.seed}, "
            f"warmup_slots={self.warmup_slots}, decision={self.decision!r}"
        )
