r"""Slack and dual variables of primal-dual learning, and their update."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pyg_aggnn._validation import check_non_negative, check_positive_int

__all__ = [
    "DualVariables",
    "dual_metrics",
    "STEP_SLACK",
    "STEP_LAMBDA",
    "STEP_MU",
    "DAMPING",
    "PRICE_WINDOW",
]

#: :math:`\epsilon_r`, step of the ergodic rates.
STEP_SLACK = 0.01
#: :math:`\epsilon_\lambda`, step of the rate duals.
STEP_LAMBDA = 0.01
#: :math:`\epsilon_\mu`, step of the constraint duals.
STEP_MU = 2.0e-4
#: :math:`\kappa`, weight of the last budget slack in the power price.
DAMPING = 0.05
#: Updates over which the oscillation of the power price is measured (``power_price_std``).
PRICE_WINDOW = 100


class DualVariables(nn.Module):
    r"""The ergodic rates :math:`\mathbf{r}` and the duals :math:`\boldsymbol{\lambda},
    \boldsymbol{\mu}` of the Lagrangian

    .. math::
        \mathcal{L} = u_0(\mathbf{r})
        + \boldsymbol{\lambda}^T(\mathbb{E}[\mathbf{f}] - \mathbf{r})
        + \boldsymbol{\mu}_u^T \mathbf{u}(\mathbf{r})
        + \mu_p (P_{\max} - \mathbb{E}[\mathbf{1}^T \mathbf{p}]),

    held as buffers (so they are checkpointed and moved with the module) and updated
    after every policy step, in the papers' order, with the statistics of the step's
    whole (all-reduced) batch:

    .. math::
        \mathbf{r} &\leftarrow \mathbf{r} + \epsilon_r\big(\nabla u_0(\mathbf{r})
            + \nabla \mathbf{u}(\mathbf{r})\,\boldsymbol{\mu}_u - \boldsymbol{\lambda}\big)\\
        \boldsymbol{\mu}_u &\leftarrow [\boldsymbol{\mu}_u - \epsilon_\mu
            \mathbf{u}(\mathbf{r})]_+\\
        \mu_p &\leftarrow [\mu_p - \epsilon_\mu (P_{\max} - \overline{\mathbf{1}^T
            \mathbf{p}})]_+\\
        \boldsymbol{\lambda} &\leftarrow [\boldsymbol{\lambda} - \epsilon_\lambda
            (\bar{\mathbf{f}} - \mathbf{r})]_+

    The :math:`\mu` and :math:`\lambda` steps use the freshly updated :math:`\mathbf{r}`
    (assignments in the listed order), which keeps the bilinear
    :math:`\mathbf{r}`-:math:`\boldsymbol{\lambda}` dynamics from spiralling outwards.
    The gradients of :math:`u_0` and :math:`\mathbf{u}` come from autograd on the
    problem's own definitions, so any utility plugs in.

    The policy is charged the power price :math:`\bar\mu_p = [\mu_p - \kappa\,
    s_{\text{last}}]_+` (:attr:`power_price`), where :math:`s_{\text{last}}` is the last
    observed budget slack: a proportional term that damps the oscillation of the power
    around the budget (a PI controller instead of a pure integrator, Stooke et al.,
    "Responsive Safety in Reinforcement Learning by PID Lagrangian Methods", 2020). With
    ``damping = 0`` the price is :math:`\mu_p` itself, the papers' update exactly.

    The oscillation of the price is tracked as its exponentially weighted standard
    deviation over about the last :data:`PRICE_WINDOW` updates (the exact standard
    deviation of all the prices so far over the first ones; :attr:`power_price_std`,
    logged as ``power_price_std``): near ``0`` once the price has settled, of the order
    of the price itself while it swings between "too much power" and "too little".

    With ``warm_start`` the first batch sets :math:`\mathbf{r} = \bar{\mathbf{f}}` and
    :math:`\boldsymbol{\lambda} = \nabla u_0(\mathbf{r}) + \nabla \mathbf{u}(\mathbf{r})
    \boldsymbol{\mu}_u`, the fixed point of the :math:`\mathbf{r}` step, instead of
    starting from :math:`\mathbf{r} = 0`, :math:`\boldsymbol{\lambda} =` ``init_lambda``.

    The duals are sized once (:meth:`materialize`): at construction when ``size`` is
    known, else when the trainer knows the network (its data, or its first batch), or
    from the shapes of a loaded state dict.

    Args:
        size: number ``D`` of dual entries: ``m`` per-link duals for a fixed network,
            ``1`` (per-link normalised, scalar duals) for random networks, or ``None``
            to size them later (default: ``None``).
        num_rate_constraints: constraints :math:`\mathbf{u}` per entry (``0`` or ``1``).
        step_slack: :math:`\epsilon_r` (default: :data:`STEP_SLACK`, ``0.01``).
        step_lambda: :math:`\epsilon_\lambda` (default: :data:`STEP_LAMBDA`, ``0.01``).
        step_mu: :math:`\epsilon_\mu` (default: :data:`STEP_MU`, ``2e-4``).
        damping: :math:`\kappa \ge 0`, weight of the last slack in the power price
            (default: :data:`DAMPING`, ``0.05``).
        init_lambda: initial :math:`\lambda` without warm start (default: ``1.0``).
        warm_start: initialise :math:`\mathbf{r}, \boldsymbol{\lambda}` from the first
            batch (default: ``True``).
    """

    def __init__(
        self,
        size: int | None = None,
        num_rate_constraints: int = 0,
        step_slack: float = STEP_SLACK,
        step_lambda: float = STEP_LAMBDA,
        step_mu: float = STEP_MU,
        damping: float = DAMPING,
        init_lambda: float = 1.0,
        warm_start: bool = True,
    ):
        super().__init__()
        check_positive_int("num_rate_constraints", num_rate_constraints, minimum=0)
        self.step_slack = check_non_negative("step_slack", step_slack)
        self.step_lambda = check_non_negative("step_lambda", step_lambda)
        self.step_mu = check_non_negative("step_mu", step_mu)
        self.damping = check_non_negative("damping", damping)
        self.init_lambda = check_non_negative("init_lambda", init_lambda)
        self.warm_start = bool(warm_start)
        self.num_rate_constraints = num_rate_constraints
        # the per-entry buffers are empty until the duals are sized
        self.register_buffer("slack", torch.zeros(0))
        self.register_buffer("lam", torch.zeros(0))
        self.register_buffer("mu_rate", torch.zeros(0))
        self.register_buffer("mu_power", torch.zeros(1))
        self.register_buffer("last_power_slack", torch.zeros(1))
        self.register_buffer("initialized", torch.tensor(not self.warm_start))
        # running mean, variance and count of the power price (checkpointed, so that a
        # resumed run logs what the uninterrupted one does)
        self.register_buffer("price_moments", torch.zeros(3))
        self.register_load_state_dict_pre_hook(_size_from_state_dict)
        if size is not None:
            self.materialize(size)

    @property
    def sized(self) -> bool:
        """Whether the per-entry duals have their size."""
        return self.slack.numel() > 0

    def materialize(self, size: int) -> None:
        """Give the per-entry duals their size ``D`` (once; again with the same size is a
        no-op).

        Raises:
            ValueError: ``size`` is not a positive integer, or differs from the size the
                duals already have.
        """
        check_positive_int("size", size)
        if self.sized:
            if size != self.size:
                raise ValueError(f"size must stay {self.size} once the duals are sized, got {size}")
            return
        like = dict(dtype=self.slack.dtype, device=self.slack.device)
        self.slack = torch.zeros(size, **like)
        self.lam = torch.full((size,), self.init_lambda, **like)
        self.mu_rate = torch.zeros(size * self.num_rate_constraints, **like)

    @property
    def power_price(self) -> Tensor:
        """The price of power the policy is charged, ``[1]``."""
        return (self.mu_power - self.damping * self.last_power_slack).clamp_min(0)

    @property
    def power_price_std(self) -> Tensor:
        """Exponentially weighted standard deviation of :attr:`power_price`, ``[]``."""
        return self.price_moments[1].clamp_min(0).sqrt()

    def _track_price(self) -> None:
        """Welford's update with weight ``1 / n``, then ``1 / PRICE_WINDOW``."""
        mean, var, count = self.price_moments.unbind()
        count = count + 1
        alpha = 1 / count.clamp(max=PRICE_WINDOW)
        delta = self.power_price[0] - mean
        mean = mean + alpha * delta
        var = (1 - alpha) * (var + alpha * delta**2)
        self.price_moments.copy_(torch.stack([mean, var, count]))

    @property
    def size(self) -> int:
        """Number of dual entries ``D``."""
        return self.slack.numel()

    def stationary_direction(self, problem, slack: Tensor, weight: Tensor | None) -> Tensor:
        r""":math:`\nabla u_0(\mathbf{r}) + \nabla \mathbf{u}(\mathbf{r})\boldsymbol{\mu}_u`, ``[D]``."""
        with torch.enable_grad():
            variable = slack.detach().clone().requires_grad_(True)
            value = problem.utility(variable, weight)
            constraints = problem.rate_constraints(variable)
            if constraints.numel():
                value = value + (self.mu_rate * constraints).sum()
            (grad,) = torch.autograd.grad(value, variable, allow_unused=True)
        return torch.zeros_like(slack) if grad is None else grad

    @torch.no_grad()
    def step(
        self,
        problem,
        mean_reward: Tensor,
        mean_power_slack: Tensor,
        weight: Tensor | None = None,
    ) -> None:
        """One dual iteration from the statistics of a step.

        Args:
            problem: a :class:`~pyg_aggnn.problem.PowerProblem` (utility, constraints).
            mean_reward: ``[D]`` observed mean rewards :math:`\\bar{\\mathbf{f}}`.
            mean_power_slack: ``[]`` observed mean :math:`P_{\\max} - \\mathbf{1}^T\\mathbf{p}`
                (per link in random-network mode).
            weight: ``[D]`` utility weights :math:`\\alpha` (default: ones).
        """
        mean_reward = mean_reward.to(self.slack)
        self.last_power_slack.fill_(float(mean_power_slack) if problem.power_budget else 0.0)
        if not bool(self.initialized):
            self.slack.copy_(mean_reward)
            self.lam.copy_(self.stationary_direction(problem, self.slack, weight).clamp_min(0))
            self.initialized.fill_(True)
            self._track_price()
            return
        direction = self.stationary_direction(problem, self.slack, weight)
        self.slack.add_(self.step_slack * (direction - self.lam))
        constraints = problem.rate_constraints(self.slack)
        if constraints.numel():
            self.mu_rate.sub_(self.step_mu * constraints).clamp_(min=0)
        if problem.power_budget:
            self.mu_power.sub_(self.step_mu * mean_power_slack.to(self.mu_power)).clamp_(min=0)
        self.lam.sub_(self.step_lambda * (mean_reward - self.slack)).clamp_(min=0)
        self._track_price()

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, step_slack={self.step_slack}, step_lambda={self.step_lambda}, "
            f"step_mu={self.step_mu}, damping={self.damping}, warm_start={self.warm_start}"
        )


def _size_from_state_dict(module: DualVariables, state_dict, prefix: str, *args) -> None:
    """Load-state-dict pre-hook: unsized duals take the size stored in the state dict
    (``m`` per-link duals of a fixed network are only known once the data is), and a
    state dict without the price's moments (from an earlier version) starts them at zero.
    """
    stored = state_dict.get(prefix + "slack")
    if stored is not None and stored.numel() and not module.sized:
        module.materialize(stored.numel())
    # checkpoints written before the price's oscillation was tracked start it afresh
    if stored is not None and prefix + "price_moments" not in state_dict:
        state_dict[prefix + "price_moments"] = module.price_moments.new_zeros(3)


def dual_metrics(duals: DualVariables) -> dict[str, Tensor]:
    """Statistics of :class:`DualVariables` that training logs."""
    metrics = {
        "lambda_mean": duals.lam.mean(),
        "lambda_max": duals.lam.max(),
        "mu_power": duals.mu_power[0],
        "power_price": duals.power_price[0],
        "power_price_std": duals.power_price_std,
        "slack_mean": duals.slack.mean(),
    }
    if duals.mu_rate.numel():
        metrics["mu_rate_mean"] = duals.mu_rate.mean()
    return metrics
