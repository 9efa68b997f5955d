r"""The constrained power allocation problem that primal-dual training solves."""

from __future__ import annotations

from torch import Tensor

from pyg_aggnn._validation import check_choice, check_non_negative
from pyg_aggnn.data.batching import batch_vector
from pyg_aggnn.wireless import physics

__all__ = ["PowerProblem"]

_UTILITIES = ("sum_rate", "proportional_fairness")


class PowerProblem:
    r"""Utility, rewards and constraints of the papers' problem (eq. 4/41):

    .. math::
        \max_{\mathbf{A}, \mathbf{r}}\; u_0(\mathbf{r}) \quad \text{s.t.}\quad
        \mathbf{r} \le \mathbb{E}[\mathbf{f}(\Phi(\mathcal{H}, \mathbf{A}), \mathbf{H},
        \mathbf{x})],\quad \mathbf{u}(\mathbf{r}) \ge 0,\quad
        \mathbb{E}[\mathbf{1}^T \mathbf{p}] \le P_{\max},\quad p_i \in [0, p_{0,i}]

    * reward :math:`f_i(t)`: the Shannon rate of link :math:`i` at slot :math:`t`
      (:meth:`pyg_aggnn.data.WirelessEpisode.rates`), the only thing a model-free learner
      observes besides its own powers;
    * utility :math:`u_0`: weighted sum rate :math:`\boldsymbol{\alpha}^T \mathbf{r}`
      (:func:`~pyg_aggnn.wireless.physics.sum_rate`) or proportional fairness
      :math:`\sum_i \log r_i` (:func:`~pyg_aggnn.wireless.physics.proportional_fairness`);
    * constraints :math:`\mathbf{u}(\mathbf{r})`: per-link minimum rates
      :math:`r_i - c_{\min} \ge 0` (:func:`~pyg_aggnn.wireless.physics.min_rate_slack`);
    * the total average power budget :math:`P_{\max}` of every network
      (:func:`~pyg_aggnn.wireless.physics.power_budget_slack`); the per-link maximum
      :math:`p_0` is built into the policy (:math:`p = p_0 a`, :math:`a \in \{0, 1\}`
      or :math:`[0, 1]`).

    The trainer (:class:`~lightning_modules.PrimalDualModule`) and the metrics
    (:mod:`pyg_aggnn.evaluation.metrics`) only call :meth:`reward`, :meth:`utility`,
    :meth:`rate_constraints` and :meth:`power_slack`, and the trainer takes the
    gradient of the utility and constraints with autograd, so another problem plugs in
    by overriding them. For instance, user demands :math:`f_i = \text{rate}_i - x_i`:

    .. code-block:: python

        class Demands(PowerProblem):
            def reward(self, batch, power):
                rates = super().reward(batch, power)                 # [N, T, *S]
                demand = batch.x[..., 0]                             # [N, T]
                return rates - demand.reshape(*demand.shape, *[1] * (rates.dim() - 2))

    Args:
        utility: ``"sum_rate"`` (weighted by the links' :math:`\alpha_i`) or
            ``"proportional_fairness"`` (default: ``"sum_rate"``).
        min_rate: per-link minimum average rate :math:`c_{\min}` in nats, or ``None``
            for no rate constraint (default: ``None``).
        power_budget: enforce :math:`\mathbb{E}[\mathbf{1}^T \mathbf{p}] \le P_{\max}`
            with the episode's ``p_max_total`` (default: ``True``).
        neighbours_only: count only above-threshold interferers in the rate, the
            papers' eq. (41) (default: ``False``, physically complete).
    """

    def __init__(
        self,
        utility: str = "sum_rate",
        min_rate: float | None = None,
        power_budget: bool = True,
        neighbours_only: bool = False,
    ):
        self.utility_name = check_choice("utility", utility, _UTILITIES)
        self.min_rate = None if min_rate is None else check_non_negative("min_rate", min_rate)
        self.power_budget = bool(power_budget)
        self.neighbours_only = bool(neighbours_only)

    @property
    def num_rate_constraints(self) -> int:
        """Number of rate constraints per dual entry (``0`` or ``1``)."""
        return 0 if self.min_rate is None else 1

    @property
    def reward_is_rate(self) -> bool:
        """Whether :meth:`reward` is the plain rate (not overridden)."""
        return type(self).reward is PowerProblem.reward

    def reward(self, batch, power: Tensor) -> Tensor:
        """Per-link, per-slot reward :math:`f_i(t)` of transmit powers.

        Args:
            batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`.
            power: ``[N, T, *S]`` powers at every slot (linear; trailing dims are
                independent samples).

        Returns:
            ``[N, T, *S]`` rates in nats.
        """
        return batch.rates(power, neighbours_only=self.neighbours_only)

    def utility(self, slack: Tensor, weight: Tensor | None = None) -> Tensor:
        r"""The utility :math:`u_0(\mathbf{r})` (a scalar) of the slack variables.

        Args:
            slack: ``[D]`` ergodic rate variables :math:`\mathbf{r}`.
            weight: ``[D]`` priority weights :math:`\alpha` (sum rate only; default: ones).
        """
        if self.utility_name == "sum_rate":
            return physics.sum_rate(slack, weight=weight).sum()
        return physics.proportional_fairness(slack).sum()

    def rate_constraints(self, slack: Tensor) -> Tensor:
        r"""Constraint values :math:`\mathbf{u}(\mathbf{r})`, ``[D * C]`` (``>= 0`` is met)."""
        if self.min_rate is None:
            return slack[:0]
        return physics.min_rate_slack(slack, self.min_rate)

    def power_slack(self, batch, power: Tensor) -> Tensor:
        r"""Budget slack :math:`P_{\max} - \mathbf{1}^T \mathbf{p}` of every network.

        Args:
            batch: a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`.
            power: ``[N, T, *S]`` powers.

        Returns:
            ``[B, T, *S]`` slack per network, slot and sample (``>= 0`` is met).
        """
        graph, num_graphs = batch_vector(batch)
        return physics.power_budget_slack(power, batch.p_max_total, graph, num_graphs)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(utility={self.utility_name!r}, min_rate={self.min_rate!r}, "
            f"power_budget={self.power_budget}, neighbours_only={self.neighbours_only})"
        )
