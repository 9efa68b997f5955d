"""The one power policy interface shared by every model, and the Bernoulli power law."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["PowerPolicy", "BernoulliPower"]


class PowerPolicy(nn.Module):
    """Base class of every allocation model.

    A subclass implements :meth:`logits`; the transmit probability is
    ``sigmoid(logits)``. Models see a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`
    and decide, for every link, at the *decision slot* (the last slot of the episode) or,
    with ``all_slots=True``, at every slot (what asynchronous training needs: a node
    holds the decision of its last active slot).
    """

    def logits(self, batch, all_slots: bool = False) -> Tensor:
        """Return ``[N]`` logits at the last slot, or ``[N, T]`` at every slot."""
        raise NotImplementedError

    def forward(self, batch, all_slots: bool = False) -> Tensor:
        """Transmit probability :math:`\\pi_i \\in (0, 1)`, ``[N]`` or ``[N, T]``."""
        return torch.sigmoid(self.logits(batch, all_slots=all_slots))


class BernoulliPower:
    r"""The stochastic binary power policy :math:`p_i = p_{0,i}\,\mathrm{Bernoulli}(\pi_i)`.

    Built from logits for numerical stability: :math:`\log \pi = -\mathrm{softplus}(-z)`,
    :math:`\log(1 - \pi) = -\mathrm{softplus}(z)`.

    Args:
        logits: ``[N, *S]`` logits :math:`z` with :math:`\pi = \sigma(z)`.
        max_power: ``[N]`` per-link maximum power :math:`p_0` (or a float).
    """

    def __init__(self, logits: Tensor, max_power: Tensor | float):
        self.logits = logits
        if isinstance(max_power, Tensor):
            max_power = max_power.reshape(
                *max_power.shape, *([1] * (logits.dim() - max_power.dim()))
            )
        self.max_power = max_power

    @property
    def prob(self) -> Tensor:
        """Transmit probability :math:`\\pi`."""
        return torch.sigmoid(self.logits)

    def sample(
        self, generator: torch.Generator | None = None, uniform: Tensor | None = None
    ) -> Tensor:
        """Draw actions ``a in {0, 1}`` (float, same shape as ``logits``); no gradient.

        ``uniform`` (same shape as ``logits``, values in ``[0, 1)``) supplies the
        uniform draws instead of ``generator``, for keyed random streams.
        """
        with torch.no_grad():
            if uniform is None:
                uniform = torch.rand(
                    self.logits.shape, generator=generator, dtype=self.logits.dtype
                )
            elif uniform.shape != self.logits.shape:
                raise ValueError(
                    f"uniform must have shape {list(self.logits.shape)}, got {list(uniform.shape)}"
                )
            return (uniform.to(self.logits.device) < self.prob).to(self.logits.dtype)

    def power(self, action: Tensor) -> Tensor:
        """Transmit power of actions: :math:`p = p_0 a`."""
        return self.max_power * action

    def expected_power(self) -> Tensor:
        """Continuous power :math:`p_0 \\pi` (differentiable; model-based training)."""
        return self.max_power * self.prob

    def log_prob(self, action: Tensor) -> Tensor:
        """:math:`\\log P(a)`, differentiable in the logits."""
        return -F.binary_cross_entropy_with_logits(self.logits, action, reduction="none")

    def entropy(self) -> Tensor:
        """Entropy (nats) of every Bernoulli decision."""
        prob = self.prob
        return F.binary_cross_entropy_with_logits(self.logits, prob, reduction="none")
