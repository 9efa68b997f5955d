r"""``PrimalDualModule``: constrained, model-free (or model-based) training of a power policy."""

from __future__ import annotations

import math

import torch
from lightning.pytorch import LightningModule
from torch import Tensor, nn
from torch_geometric.utils import scatter

from lightning_modules.comparison import BaselineComparison
from lightning_modules.duals import (
    DAMPING,
    STEP_LAMBDA,
    STEP_MU,
    STEP_SLACK,
    DualVariables,
    dual_metrics,
)
from lightning_modules.step_state import BatchLayout, StepObservation
from pyg_aggnn._validation import check_choice, check_non_negative, check_positive_int
from pyg_aggnn.baselines import Baseline
from pyg_aggnn.data.batching import graph_index
from pyg_aggnn.data.config import scenario_to_config
from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.evaluation.checkpoints import SCENARIO_KEY
from pyg_aggnn.evaluation.metrics import allocation_metrics, rates_and_reward, scored_slots
from pyg_aggnn.nn.policy import BernoulliPower, PowerPolicy
from pyg_aggnn.nn.power_distributions import DISTRIBUTIONS, TruncatedGaussianPower
from pyg_aggnn.nn.power_map import POWER_MAPS, saturated
from pyg_aggnn.on_air import (
    DECISIONS,
    MODES,
    OnAir,
    allocate,
    default_policy,
    default_warmup_slots,
    power_distribution,
)
from pyg_aggnn.problem import PowerProblem
from pyg_aggnn.wireless.holding import credit, hold

__all__ = ["PrimalDualModule"]


#: How Adam's rate changes over training (see :class:`PrimalDualModule`).
LR_DECAYS = ("none", "cosine")


def _decisions(active: Tensor, logits: Tensor) -> Tensor:
    """``active`` (``[N, T]``) as a float mask of the shape of ``logits`` (``[N, T]``, or
    ``[N, T, S]`` for a policy with one logit per sample).
    """
    decided = active.to(logits.dtype)
    return decided if logits.dim() == 2 else decided[..., None].expand_as(logits)


def _given_hparams() -> bool:
    """Whether LightningCLI hands the configuration over as hyper-parameters."""
    try:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters
    except ImportError:  # pragma: no cover - other Lightning versions
        return False
    return _given_hyperparameters.get() is not None


class PrimalDualModule(LightningModule):
    r"""Primal-dual learning of a decentralized power policy (papers' Alg. 2).

    Each training step draws actions for every episode of the batch at every slot,
    applies the asynchronous semantics (an inactive node holds the decision of its last
    active slot, :mod:`pyg_aggnn.wireless.holding`), observes the rewards
    :math:`f_i(t)` of the scored slots :math:`t \ge` ``warmup_slots``, takes one ascent
    step on

    .. math::
        \mathbb{E}\Big[\sum_t \boldsymbol{\lambda}^T \mathbf{f}(t)
        - \bar\mu_p\, \mathbf{1}^T \mathbf{p}(t)\Big]

    (:math:`\bar\mu_p` is the price of power, the dual :math:`\mu_p` plus an optional
    damping term, :attr:`DualVariables.power_price`) and then one dual step (:class:`~lightning_modules.DualVariables`) from the mean
    reward and power of the whole batch, all-reduced over DDP ranks so that every rank
    holds identical duals.

    * ``mode="model_free"`` (the papers): :math:`p_i = p_{0,i} a_i`,
      :math:`a_i \sim \mathrm{Bernoulli}(\pi_i)`, and the score-function gradient
      :math:`\sum_{i,s} \nabla \log P(a_i(s))\, G_i(s)`, where decision :math:`(i, s)`
      is credited with the slots it is held for:
      :math:`G_i(s) = \sum_{t \text{ held}} [\boldsymbol{\lambda}^T\mathbf{f}(t) - b(t)]
      - \bar\mu_p (p_i(t) - p_{0,i}\pi_i(s))`. The variance-reducing baseline :math:`b` is
      the leave-one-out mean of the network's :math:`\boldsymbol{\lambda}^T\mathbf{f}(t)`
      over the ``action_samples`` draws on the same episode (over the global batch when
      ``action_samples = 1``); :math:`p_{0,i}\pi_i` is the mean of the node's own power.
      Neither depends on the action it scores, so the estimate stays unbiased, and only
      observed rates and powers enter. ``distribution="truncated_normal"`` replaces the
      on/off action by a continuous power fraction, :math:`p_i = p_{0,i} x_i`,
      :math:`x_i \sim \mathcal{N}(\pi_i, s^2)` truncated to :math:`[0, 1]`
      (:class:`~pyg_aggnn.nn.TruncatedGaussianPower`), with one learnable scale
      :math:`s` (:attr:`log_scale`, optimised with the policy); the fraction is held
      and credited like the on/off action, and :math:`p_{0,i}\pi_i` above becomes the
      law's mean power :math:`p_{0,i}\mathbb{E}[x_i]`.
    * ``mode="model_based"`` (WCGCN's unsupervised training): the continuous power
      :math:`p \in [0, p_0]` of the logits under ``power_map``
      (:mod:`pyg_aggnn.nn.power_map`) and autograd through the rate formula.

    Networks: ``"fixed"`` (one layout, per-link :math:`\mathbf{r}, \boldsymbol{\lambda}`
    of size ``num_links``, as in the papers) or ``"random"`` (a new layout, possibly of
    another size, per sample: the rate reward :math:`\frac{1}{m}\sum_i \alpha_i f_i` and
    the budget slack :math:`\frac{1}{m}(P_{\max} - \mathbf{1}^T\mathbf{p})` are normalised
    per link and the duals are scalars; sum-rate utility only). Both default to the
    ``WirelessDataModule``'s.

    Validation and test log under ``split/name`` the sum rate, power per link, budget
    violation, entropy and dual statistics (:mod:`pyg_aggnn.evaluation.metrics`) of the
    policy and, as ``split/name_<baseline>``, of every baseline on the same episodes.

    Args:
        policy: any :class:`~pyg_aggnn.nn.PowerPolicy` (``class_path`` in YAML;
            default: :meth:`default_policy`).
        problem: utility and constraints (default: ``PowerProblem()``: sum rate under the
            total power budget).
        mode: ``"model_free"`` or ``"model_based"`` (default: ``"model_free"``).
        distribution: the law of a model-free action, ``"bernoulli"`` (on/off, the
            papers') or ``"truncated_normal"`` (a continuous power in :math:`[0, p_0]`)
            (default: ``"bernoulli"``).
        init_scale: initial scale :math:`s` of ``"truncated_normal"`` (default: ``0.3``).
        power_map: how a logit becomes a power, model-based: ``"floor"`` (the sigmoid
            with a floor on its slope back towards 0), ``"clip"`` (a clipped linear map
            whose gradient passes back inside at the bounds) or ``"sigmoid"``
            (:math:`p_0 \sigma(z)`, which stalls where it saturates), see
            :mod:`pyg_aggnn.nn.power_map` (default: ``"floor"``).
        network: ``"fixed"``, ``"random"`` or ``None`` (the data module's, else fixed).
        num_links: ``m`` of the fixed network (default: the data module's or the first
            batch's).
        lr: learning rate of Adam (default: ``0.01``); another optimizer plugs in by
            overriding :meth:`configure_optimizers`, or with LightningCLI's
            ``--optimizer``.
        lr_warmup_epochs: epochs over which Adam's rate rises linearly from
            ``lr / 10`` to ``lr`` (``LinearLR``, stepped once per epoch); ``0``: none
            (default: ``0``). With a rectified last layer it kept the papers'
            single-feature Agg-GNN head from overshooting and dying early; with the
            papers' final layer (``readout="filter"``, ``configs/paper_heads/``) it is
            not needed (docs/training.md).
        lr_decay: ``"none"`` (a constant rate after the warm-up) or ``"cosine"``: the
            rate follows a half cosine from ``lr`` down to ``lr / 100`` over the
            training's steps (``trainer.estimated_stepping_batches``), so that the
            weights that are evaluated are not one random point of the late updates'
            oscillation (docs/training.md) (default: ``"none"``).
        step_slack, step_lambda, step_mu, damping, init_lambda, warm_start: see
            :class:`~lightning_modules.DualVariables`.
        action_samples: action draws per episode, model-free (default: ``4``).
        credit: what the rate term of a decision is: the whole network's
            :math:`\boldsymbol{\lambda}^T\mathbf{f}` (``"network"``, the papers',
            unbiased) or only the links it reaches above the threshold :math:`\eta_0`,
            its own and those it interferes with (``"neighbourhood"``: lower variance,
            exact for ``problem.neighbours_only``, otherwise it ignores interference
            below :math:`\eta_0`; needs ``action_samples >= 2``) (default:
            ``"network"``).
        warmup_slots: leading slots whose rewards are not scored, while the aggregation
            buffer fills (default: the policy's ``K - 1``, else ``0``).
        entropy_weight: weight of an entropy bonus in the loss (default: ``0.0``).
        baselines: ``{name: Baseline}`` logged beside the policy (default:
            :meth:`BaselineComparison.default_baselines`); a
            ``WMMSE(budget="price")`` without a price is calibrated on the data
            module's training episodes.
        num_exchanges: WMMSE iterations of the default baselines (default: the policy's
            ``num_exchanges``, else its ``K``, else ``5``).
        baseline_update_every: decision period of the default baselines (default: ``1``).
        seed: seed of the action draws (default: ``0``).
        detect_stalls: add a :class:`~lightning_modules.StallDetector` (with its
            defaults) unless the trainer has one (default: ``True``).
        norm_batches: training batches over which a
            :class:`~lightning_modules.BatchNormRecalibration` recomputes the policy's
            batch-normalisation statistics before every validation and at the end of
            training, where the policy has such layers and the trainer no such callback;
            ``0``: the running averages of PyTorch, which trail the weights and can
            leave an evaluated policy with every ReLU closed (default: ``16``).
    """

    def __init__(
        self,
        policy: PowerPolicy | None = None,
        problem: PowerProblem | None = None,
        mode: str = MODES[0],
        distribution: str = DISTRIBUTIONS[0],
        init_scale: float = 0.3,
        power_map: str = POWER_MAPS[0],
        network: str | None = None,
        num_links: int | None = None,
        lr: float = 0.01,
        lr_warmup_epochs: int = 0,
        lr_decay: str = "none",
        step_slack: float = STEP_SLACK,
        step_lambda: float = STEP_LAMBDA,
        step_mu: float = STEP_MU,
        damping: float = DAMPING,
        init_lambda: float = 1.0,
        warm_start: bool = True,
        action_samples: int = 4,
        credit: str = "network",
        warmup_slots: int | None = None,
        entropy_weight: float = 0.0,
        baselines: dict[str, Baseline] | None = None,
        num_exchanges: int | None = None,
        baseline_update_every: int = 1,
        seed: int = 0,
        detect_stalls: bool = True,
        norm_batches: int = 16,
    ):
        super().__init__()
        objects = ["policy", "problem", "baselines"]
        self.save_hyperparameters(ignore=[] if _given_hparams() else objects)
        self.automatic_optimization = False
        policy = self.default_policy() if policy is None else policy
        if not isinstance(policy, nn.Module):
            raise ValueError(f"policy must be a PowerPolicy, got {type(policy).__name__}")
        self.policy = policy
        self.problem = PowerProblem() if problem is None else problem
        self.mode = check_choice("mode", mode, MODES)
        self.power_map = check_choice("power_map", power_map, POWER_MAPS)
        self.distribution = check_choice("distribution", distribution, DISTRIBUTIONS)
        if getattr(policy, "beamforming", False) and self.mode != "model_based":
            raise ValueError(
                f"mode must be 'model_based' for the beamforming policy "
                f"{type(policy).__name__} (it draws no actions), got {mode!r}"
            )
        if self.mode == "model_based" and self.distribution != DISTRIBUTIONS[0]:
            raise ValueError(
                f"distribution must be {DISTRIBUTIONS[0]!r} with mode='model_based' (which "
                f"draws no actions), got {distribution!r}"
            )
        if self.distribution == "truncated_normal":
            if not init_scale > 0:
                raise ValueError(f"init_scale must be > 0, got {init_scale}")
            #: Log of the truncated Gaussian's scale :math:`s`, learned with the policy.
            self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)))
        else:
            self.register_parameter("log_scale", None)
        if network is not None:
            check_choice("network", network, ("fixed", "random"))
        self.network = network
        self.num_links = None if num_links is None else check_positive_int("num_links", num_links)
        self.lr = check_non_negative("lr", lr)
        self.lr_warmup_epochs = check_positive_int("lr_warmup_epochs", lr_warmup_epochs, minimum=0)
        self.lr_decay = check_choice("lr_decay", lr_decay, LR_DECAYS)
        self.action_samples = check_positive_int("action_samples", action_samples)
        self.credit_scope = check_choice("credit", credit, ("network", "neighbourhood"))
        #: Whether the policy reads the powers on the air (feedback inputs): its
        #: decisions are then credited with the network's rewards to go.
        self.feedback = bool(getattr(policy, "feedback", False))
        if self.feedback and self.credit_scope != "network":
            raise ValueError(
                f"credit must be 'network' for a policy with feedback inputs (an action "
                f"changes every later decision it is fed back to), got {credit!r}"
            )
        if self.credit_scope == "neighbourhood" and self.action_samples < 2:
            raise ValueError(
                f"credit='neighbourhood' needs action_samples >= 2, got {action_samples}"
            )
        if warmup_slots is None:
            warmup_slots = default_warmup_slots(policy)
        self.warmup_slots = check_positive_int("warmup_slots", warmup_slots, minimum=0)
        self.entropy_weight = check_non_negative("entropy_weight", entropy_weight)
        self.baseline_update_every = check_positive_int(
            "baseline_update_every", baseline_update_every
        )
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.detect_stalls = bool(detect_stalls)
        self.norm_batches = check_positive_int("norm_batches", norm_batches, minimum=0)
        #: Saturated fraction of the last training step's decisions (a 0-dim tensor).
        self.last_saturated: Tensor | None = None
        self.last_spread: Tensor | None = None
        #: The last training step's ``train/...`` metrics (see :meth:`record_train`).
        self.train_metrics: dict[str, Tensor | float] = {}
        exchanges = num_exchanges or getattr(policy, "num_exchanges", None)
        self.comparison = BaselineComparison(
            baselines,
            num_exchanges=int(exchanges or getattr(policy, "K", None) or 5),
            update_every=self.baseline_update_every,
            neighbours_only=self.problem.neighbours_only,
            seed=self.seed,
            warmup_slots=self.warmup_slots,
        )
        # sized once: here when the network is known, else by setup or the first batch
        self.duals = DualVariables(
            size=1 if network == "random" else self.num_links,
            num_rate_constraints=self.problem.num_rate_constraints,
            step_slack=step_slack,
            step_lambda=step_lambda,
            step_mu=step_mu,
            damping=damping,
            init_lambda=init_lambda,
            warm_start=warm_start,
        )

    @staticmethod
    def default_policy() -> PowerPolicy:
        """The default model (:func:`pyg_aggnn.on_air.default_policy`): the
        :class:`~pyg_aggnn.nn.AggGNN` preset ``"compact"`` (``K = 5`` exchanges, a
        3-layer CNN head of 4 features, 5 taps and a linear readout).
        """
        return default_policy()

    # ------------------------------------------------------------------ setup
    def setup(self, stage: str) -> None:
        data = self.trainer.datamodule
        data_network = getattr(data, "network", None)
        if self.network is None:
            self.network = data_network or "fixed"
        elif data_network not in (None, self.network):
            raise ValueError(
                f"network must match the data module's {data_network!r}, got {self.network!r}"
            )
        if self.network == "random" and self.problem.utility_name != "sum_rate":
            raise ValueError(
                "problem.utility must be 'sum_rate' with network='random' (scalar duals), "
                f"got {self.problem.utility_name!r}"
            )
        if self.network == "fixed" and self.num_links is None:
            self.num_links = getattr(data, "num_links", None)
        size = self.num_links if self.network == "fixed" else 1
        if size is not None:
            self.duals.materialize(size)
        # the baselines' offline settings (wmmse_local's price) come from training episodes
        training = getattr(data, "training_episodes", None)
        if callable(training) and self.comparison.training_episodes is None:
            self.comparison.training_episodes = training

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Record the training scenario beside the weights, so that ``pyg-aggnn evaluate``
        evaluates on it by default (:func:`~pyg_aggnn.evaluation.training_scenario`);
        only for a data module that simulates one scenario.
        """
        trainer = self._trainer
        scenarios = getattr(getattr(trainer, "datamodule", None), "scenarios", None)
        if scenarios is not None and len(scenarios) == 1:
            checkpoint.setdefault(SCENARIO_KEY, scenario_to_config(scenarios[0]))

    def configure_callbacks(self):
        from lightning_modules.callbacks import BatchNormRecalibration, StallDetector
        from pyg_aggnn.nn.norm_statistics import batch_norm_layers

        present = self.trainer.callbacks
        added = []
        if self.detect_stalls and not any(isinstance(c, StallDetector) for c in present):
            added.append(StallDetector())
        if (
            self.norm_batches
            and batch_norm_layers(self.policy)
            and not any(isinstance(c, BatchNormRecalibration) for c in present)
        ):
            added.append(BatchNormRecalibration(self.norm_batches))
        return added

    def configure_optimizers(self):
        scale = [] if self.log_scale is None else [self.log_scale]
        optimizer = torch.optim.Adam([*self.policy.parameters(), *scale], lr=self.lr)
        schedulers = []
        if self.lr_warmup_epochs:
            warmup = torch.optim.lr_scheduler.LinearLR(
                optimizer, start_factor=0.1, total_iters=self.lr_warmup_epochs
            )
            schedulers.append({"scheduler": warmup, "interval": "epoch"})
        if self.lr_decay == "cosine":
            steps = max(int(self.trainer.estimated_stepping_batches), 1)
            decay = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=steps, eta_min=self.lr / 100
            )
            schedulers.append({"scheduler": decay, "interval": "step"})
        if not schedulers:
            return optimizer
        return [optimizer], schedulers

    # ------------------------------------------------------------------ structure of a batch
    def _layout(self, batch) -> BatchLayout:
        """Dual entry and per-link normalisation of every link of ``batch``."""
        graph, ptr, num_graphs = graph_index(batch)
        sizes = (ptr[1:] - ptr[:-1]).to(batch.direct_gain.dtype)  # [B]
        if (self.network or "fixed") == "random":
            self.duals.materialize(1)
            return BatchLayout(
                graph=graph,
                num_graphs=num_graphs,
                index=torch.zeros_like(graph),
                rate_weight=batch.link_weight / sizes[graph],
                power_scale=1.0 / sizes,
                utility_weight=None,
            )
        if self.num_links is None:
            self.num_links = int(sizes[0])
        self.duals.materialize(self.num_links)
        if bool((sizes != self.num_links).any()):
            raise ValueError(
                f"network='fixed' needs every episode to have num_links={self.num_links} links, "
                f"got sizes {sizes.long().unique().tolist()}"
            )
        local = torch.arange(batch.num_nodes, device=graph.device) - ptr[graph]
        return BatchLayout(
            graph=graph,
            num_graphs=num_graphs,
            index=local,
            rate_weight=torch.ones_like(batch.link_weight),
            power_scale=torch.ones_like(sizes),
            utility_weight=scatter(batch.link_weight, local, 0, dim_size=self.num_links),
        )

    def _reduce_sum(self, value: Tensor) -> Tensor:
        if self._trainer is None or self.trainer.world_size == 1:
            return value
        return self.trainer.strategy.reduce(value.clone(), reduce_op="sum")

    # ------------------------------------------------------------------ the policy on the air
    def power_distribution(
        self, logits: Tensor, max_power: Tensor
    ) -> BernoulliPower | TruncatedGaussianPower:
        """The model-free action law of ``logits`` (``[N, *S]``) and ``max_power``
        (``[N]``): :func:`pyg_aggnn.on_air.power_distribution`, of scale
        ``exp(log_scale)`` with ``distribution="truncated_normal"``.
        """
        return power_distribution(logits, max_power, self._scale())

    def _scale(self) -> Tensor | None:
        return None if self.log_scale is None else self.log_scale.exp()

    def allocate(
        self,
        batch,
        stream: int = Stream.EVAL_ACTIONS,
        step: int = 0,
        samples: int = 1,
        decision: str = DECISIONS[0],
    ) -> OnAir:
        """Powers the policy puts on the air at every slot
        (:func:`pyg_aggnn.on_air.allocate` with this module's mode, power map, law and
        seed; ``decision``: draws, or the law's mode, :data:`~pyg_aggnn.on_air.DECISIONS`).

        Returns:
            :class:`~pyg_aggnn.on_air.OnAir` ``(power [N, T, samples], logits [N, T],
            action [N, T, samples] or None, source [N, T])``.
        """
        return allocate(
            self.policy,
            batch,
            self.mode,
            self.power_map,
            self._scale(),
            self.seed,
            stream,
            step,
            samples,
            decision,
        )

    def primal_loss(self, batch, step: int = 0) -> tuple[Tensor, StepObservation]:
        """The policy loss of one step and what was observed (rates, rewards, powers)."""
        samples = self.action_samples if self.mode == "model_free" else 1
        layout = self._layout(batch)
        graph, num_graphs = layout.graph, layout.num_graphs
        on_air = self.allocate(batch, Stream.ACTIONS, step, samples)
        power, logits, action, source = on_air
        scored = scored_slots(batch, self.warmup_slots)  # [T, 1]
        lam = (self.duals.lam[layout.index] * layout.rate_weight)[:, None, None]  # [N, 1, 1]
        mu_p = (self.duals.power_price * layout.power_scale)[graph][:, None, None]
        norm = num_graphs * samples * scored.sum()
        if self.mode == "model_based":
            rates, reward = rates_and_reward(self.problem, batch, on_air.transmitted)
            loss = -((lam * reward - mu_p * power) * scored).sum() / norm
            entropy = power.new_zeros(())
        else:
            # [N, T, S]: one logit per sample where the policy reads the powers on the air
            per_sample = logits if logits.dim() == 3 else logits[..., None].expand(-1, -1, samples)
            dist = self.power_distribution(per_sample, batch.max_power)
            with torch.no_grad():
                rates, reward = rates_and_reward(self.problem, batch, power)  # [N, T, S]
                if self.feedback:
                    returns = self._rewards_to_go(
                        graph, num_graphs, lam * reward, mu_p * power, scored
                    )
                else:
                    returns = self._held_returns(
                        batch, graph, num_graphs, logits, lam * reward, mu_p, power, source, scored
                    )
            decided = batch.active[..., None].to(power.dtype)
            loss = -(dist.log_prob(action) * returns * decided).sum() / norm
            entropy = (dist.entropy() * decided).sum() / (decided.sum().clamp_min(1) * samples)
            loss = loss - self.entropy_weight * entropy
        observed = StepObservation(
            layout=layout,
            rates=rates.detach(),
            reward=reward.detach(),
            power=power.detach(),
            scored=scored,
            entropy=entropy.detach(),
            # beamformers have no logits: their stall shows in the gradient norm alone
            saturated=None
            if logits is None
            else self.saturated_fraction(logits.detach(), batch.active),
            spread=None if logits is None else self.logit_spread(logits.detach(), batch.active),
        )
        return loss, observed

    def saturated_fraction(self, logits: Tensor, active: Tensor) -> Tensor:
        """Fraction of the decisions (active link-slots) whose logit passes (almost) no
        gradient (:func:`pyg_aggnn.nn.power_map.saturated`): the model-based power map's,
        or the model-free law's sigmoid (its probability or mean).
        """
        power_map = self.power_map if self.mode == "model_based" else "sigmoid"
        decided = _decisions(active, logits)
        return (saturated(logits, power_map) * decided).sum() / decided.sum().clamp_min(1)

    @staticmethod
    def logit_spread(logits: Tensor, active: Tensor) -> Tensor:
        """Standard deviation of the logits over the decisions (active link-slots): ``0``
        when every link decides alike (dead ReLUs, a normalisation whose scale vanished),
        whatever the gradient.
        """
        decided = _decisions(active, logits)
        count = decided.sum().clamp_min(1)
        mean = (logits * decided).sum() / count
        return (((logits - mean) ** 2 * decided).sum() / count).sqrt()

    def _neighbourhood(self, batch, value: Tensor) -> Tensor:
        """``value[i] + sum of value[j]`` over the links ``j`` that ``i`` interferes with
        above the threshold at that slot, ``[N, T, S]``.
        """
        src, dst = batch.edge_index
        heard = (batch.interference_gain(neighbours_only=True) > 0) & (src != dst)[:, None]
        received = value[dst] * heard[..., None].to(value.dtype)  # [E, T, S]
        return value + scatter(received, src, 0, dim_size=value.size(0))

    def _held_returns(
        self,
        batch,
        graph: Tensor,
        num_graphs: int,
        logits: Tensor,
        rate: Tensor,
        mu_p: Tensor,
        power: Tensor,
        source: Tensor,
        scored: Tensor,
    ) -> Tensor:
        """Returns ``[N, T, S]`` of the decisions: the rate term's advantage (network or
        neighbourhood, less the leave-one-out baseline) less the price of the node's own
        power over its mean, summed over the slots the decision is held for.
        """
        if self.credit_scope == "network":
            rate_term = scatter(rate, graph, 0, dim_size=num_graphs)  # [B, T, S]
            advantage = (rate_term - self._rate_baseline(rate_term))[graph]
        else:
            rate_term = self._neighbourhood(batch, rate)  # [N, T, S]
            advantage = rate_term - self._rate_baseline(rate_term)
        # the law's mean power, the same for every sample: taken on the [N, T] logits, not
        # on their stride-0 expansion, where torch's sigmoid rounds differently in the
        # last bit (which moved the default run's numbers)
        mean_power = hold(self.power_distribution(logits, batch.max_power).expected_power(), source)
        if mean_power.dim() == 2:
            mean_power = mean_power[..., None]  # [N, T, 1]
        own_cost = mu_p * (power - mean_power)
        return credit((advantage - own_cost) * scored, source)

    def _rewards_to_go(
        self, graph: Tensor, num_graphs: int, rate: Tensor, cost: Tensor, scored: Tensor
    ) -> Tensor:
        """Returns ``[N, T, S]`` of the decisions of a policy with feedback inputs: its
        network's Lagrangian over the scored slots from ``t`` on (an action changes the
        inputs, and so the decisions, of every later slot), less the leave-one-out
        baseline (:meth:`_rate_baseline`); unbiased.
        """
        value = scatter((rate - cost) * scored, graph, 0, dim_size=num_graphs)  # [B, T, S]
        to_go = value.flip(1).cumsum(1).flip(1)
        return (to_go - self._rate_baseline(to_go))[graph]

    def _rate_baseline(self, rate_term: Tensor) -> Tensor:
        """Leave-one-out baseline ``[B, T, S]`` of the networks' rate reward."""
        samples = rate_term.size(-1)
        if samples > 1:
            return (rate_term.sum(-1, keepdim=True) - rate_term) / (samples - 1)
        local = torch.cat([rate_term.sum(0).reshape(-1), rate_term.new_tensor([len(rate_term)])])
        total = self._reduce_sum(local)
        if total[-1] <= 1:
            return torch.zeros_like(rate_term)
        return (total[:-1].reshape(rate_term.shape[1:]) - rate_term) / (total[-1] - 1)

    def dual_step(self, batch, observed: StepObservation) -> None:
        """Update :attr:`duals` from the step's observations, all-reduced over ranks."""
        layout, reward, scored = observed.layout, observed.reward, observed.scored
        size, num_graphs = self.duals.size, layout.num_graphs
        weighted = (reward * scored).sum((1, 2)) * layout.rate_weight  # [N]
        reward_sum = scatter(weighted, layout.index, 0, dim_size=size)  # [D]
        slack = self.problem.power_slack(batch, observed.power)
        slack = slack * layout.power_scale[:, None, None]  # [B, T, S]
        weight = layout.utility_weight
        stats = [
            reward_sum,
            weight if weight is not None else reward_sum.new_zeros(size),
            (slack * scored).sum().reshape(1),
            reward.new_tensor([num_graphs * reward.size(-1) * float(scored.sum()), num_graphs]),
        ]
        total = self._reduce_sum(torch.cat(stats))
        count, graphs_total = total[-2], total[-1]
        weight = None if weight is None else total[size : 2 * size] / graphs_total
        self.duals.step(self.problem, total[:size] / count, total[2 * size] / count, weight)

    def training_step(self, batch, batch_idx: int) -> Tensor:
        loss, observed = self.primal_loss(batch, self.global_step)
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        self._step_schedulers("step")
        self.dual_step(batch, observed)
        metrics = allocation_metrics(
            self.problem, batch, observed.power, observed.rates, observed.reward, observed.scored
        )
        metrics.update(loss=loss.detach(), entropy=observed.entropy, **dual_metrics(self.duals))
        self.last_saturated, self.last_spread = observed.saturated, observed.spread
        logged = {f"train/{k}": v for k, v in metrics.items()}
        # the x-axis of every log is the number of policy updates, exact across resumes
        logged["step"] = float(self.global_step)
        self.train_metrics = {}
        self.record_train(logged, batch_size=observed.layout.num_graphs)
        return loss.detach()

    def record_train(self, values: dict[str, Tensor | float], **kwargs) -> None:
        """Keep this training step's ``values`` in :attr:`train_metrics`, and log them
        (``self.log_dict(values, **kwargs)``) on the steps the trainer's loggers write.

        Every ``self.log`` passes through Lightning's result collection, about a
        millisecond per metric on a CPU: logging the dozen training metrics at every step
        took 45 % of a model-based MLP step. They are therefore handed to Lightning only
        on the steps it writes (every ``log_every_n_steps``) and on the last step of the
        fit, so ``metrics.csv`` is the same; callbacks read the current step's values
        from :attr:`train_metrics`, while ``trainer.callback_metrics`` holds those of the
        last step that was logged.
        """
        self.train_metrics.update(
            {k: v.detach() if isinstance(v, Tensor) else v for k, v in values.items()}
        )
        if self._writes_logs():
            self.log_dict(values, **kwargs)

    def _writes_logs(self) -> bool:
        """Whether the trainer writes this training step's logs (Lightning's own rule),
        or it is the last step of the fit, whose values ``callback_metrics`` then keeps.
        """
        trainer = self._trainer
        connector = getattr(trainer, "_logger_connector", None)
        if connector is None or bool(getattr(connector, "should_update_logs", True)):
            return True
        if trainer.fast_dev_run:
            return True
        # global_step counts this step's update already (manual optimization)
        if trainer.max_steps > 0 and self.global_step >= trainer.max_steps:
            return True
        max_epochs = trainer.max_epochs
        return bool(
            trainer.is_last_batch
            and max_epochs is not None
            and max_epochs > 0
            and trainer.current_epoch + 1 >= max_epochs
        )

    def on_train_epoch_end(self) -> None:
        self._step_schedulers("epoch")

    def _step_schedulers(self, interval: str) -> None:
        """Manual optimization: advance the learning-rate schedules of this ``interval``
        (``lr_warmup_epochs`` and LightningCLI's ``--lr_scheduler`` once per epoch,
        ``lr_decay`` once per step).
        """
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == interval:
                config.scheduler.step()

    # ------------------------------------------------------------------ validation and test
    def _evaluate(self, split: str, batch, batch_idx: int, dataloader_idx: int) -> None:
        scored = scored_slots(batch, self.warmup_slots)
        on_air = self.allocate(batch)
        power, logits = on_air.power, on_air.logits
        observed = rates_and_reward(self.problem, batch, on_air.transmitted)
        metrics = allocation_metrics(self.problem, batch, power, *observed, scored)
        if self.mode == "model_free":
            entropy = self.power_distribution(logits, batch.max_power).entropy()
            metrics["entropy"] = (entropy * batch.active).sum() / batch.active.sum().clamp_min(1)
            # the deterministic policy of the same logits: its mode on the air
            modal = self.allocate(batch, decision="mode")
            observed = rates_and_reward(self.problem, batch, modal.transmitted)
            modal = allocation_metrics(self.problem, batch, modal.power, *observed, scored)
            metrics.update({f"mode_{k}": modal[k] for k in ("sum_rate", "violation")})
        if logits is not None:  # 0: every link decides alike (see StallDetector)
            metrics["logit_spread"] = self.logit_spread(logits, batch.active & (scored.T > 0))
        metrics.update(dual_metrics(self.duals))
        key = (split, dataloader_idx, batch_idx, batch.num_nodes)
        metrics.update(self.comparison.metrics(self.problem, batch, scored, key))
        logged = {f"{split}/{k}": v for k, v in metrics.items()}
        logged["step"] = float(self.global_step)
        self.log_dict(
            logged,
            batch_size=graph_index(batch)[2],
            sync_dist=True,
            add_dataloader_idx=False,
        )

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._evaluate("val", batch, batch_idx, dataloader_idx)

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._evaluate("test", batch, batch_idx, dataloader_idx)

    def forward(self, batch) -> Tensor:
        """Transmit probabilities of the wrapped policy at the decision slot, ``[N]``."""
        return self.policy(batch)
