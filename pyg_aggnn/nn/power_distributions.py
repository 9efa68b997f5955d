r"""Continuous stochastic power policies on :math:`[0, p_0]`, beside the Bernoulli one.

A policy outputs one logit :math:`z` per link and slot; here it sets the mean
:math:`\mu = \sigma(z)` of a power *fraction* :math:`x \in [0, 1]`, and the power is
:math:`p = p_0 x`. Draws come from uniforms by the inverse CDF, so that the keyed
uniform streams of training and evaluation give reproducible actions as they do for
:class:`~pyg_aggnn.nn.BernoulliPower`.

Only the truncated Gaussian is offered: a Beta law would need the inverse of the
regularised incomplete beta function, which torch does not provide (there is no
``betainc`` in ``torch.special``, and torch's Beta and Gamma samplers take no
generator), so its draws could not be keyed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn.nn.policy import uniform_draws

__all__ = ["TruncatedGaussianPower", "DISTRIBUTIONS"]

#: The ``distribution`` names of model-free training: the papers' on/off law first.
DISTRIBUTIONS = ("bernoulli", "truncated_normal")

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class TruncatedGaussianPower:
    r"""The power policy :math:`p_i = p_{0,i}\, x_i`, :math:`x_i \sim
    \mathcal{N}(\mu_i, s^2)` truncated to :math:`[0, 1]`, :math:`\mu_i = \sigma(z_i)`.

    With :math:`\alpha = -\mu / s`, :math:`\beta = (1 - \mu) / s`,
    :math:`Z = \Phi(\beta) - \Phi(\alpha)` (:math:`\phi`, :math:`\Phi` the standard normal
    density and CDF):

    .. math::
        \log f(x) = \log\phi\Big(\frac{x - \mu}{s}\Big) - \log s - \log Z, \qquad
        \mathbb{E}[x] = \mu + s\,\frac{\phi(\alpha) - \phi(\beta)}{Z},

    .. math::
        H = \log\big(\sqrt{2\pi e}\, s Z\big)
        + \frac{\alpha\phi(\alpha) - \beta\phi(\beta)}{2Z},

    and a uniform :math:`u` maps to :math:`x = \mu + s\,\Phi^{-1}(\Phi(\alpha) + u Z)`.
    Since :math:`\alpha \le 0 \le \beta` and :math:`\beta - \alpha = 1/s`,
    :math:`Z \ge \Phi(1/s) - \frac12 > 0`: the truncation never leaves a vanishing mass.

    Args:
        logits: ``[N, *S]`` logits :math:`z`, :math:`\mu = \sigma(z)`.
        max_power: ``[N]`` per-link maximum power :math:`p_0` (or a float).
        scale: the standard deviation :math:`s > 0` of the untruncated Gaussian, a
            tensor broadcastable to ``logits`` (a 0-dim learnable scale) or a float.
    """

    def __init__(self, logits: Tensor, max_power: Tensor | float, scale: Tensor | float):
        self.logits = logits
        if isinstance(max_power, Tensor):
            max_power = max_power.reshape(
                *max_power.shape, *([1] * (logits.dim() - max_power.dim()))
            )
        self.max_power = max_power
        scale = torch.as_tensor(scale, dtype=logits.dtype, device=logits.device)
        if not bool((scale > 0).all()):
            raise ValueError(f"scale must be > 0, got {scale.detach().min().item()}")
        self.scale = scale

    @property
    def loc(self) -> Tensor:
        """Mean :math:`\\mu = \\sigma(z)` of the untruncated Gaussian."""
        return torch.sigmoid(self.logits)

    def _bounds(self) -> tuple[Tensor, Tensor, Tensor]:
        """Standardised bounds :math:`\\alpha, \\beta` and the mass :math:`Z` between them."""
        loc = self.loc
        alpha, beta = -loc / self.scale, (1.0 - loc) / self.scale
        mass = (torch.special.ndtr(beta) - torch.special.ndtr(alpha)).clamp_min(
            torch.finfo(loc.dtype).tiny
        )
        return alpha, beta, mass

    def sample(
        self, generator: torch.Generator | None = None, uniform: Tensor | None = None
    ) -> Tensor:
        """Draw power fractions ``x in [0, 1]`` (same shape as ``logits``); no gradient.

        ``uniform`` (same shape as ``logits``, values in ``[0, 1)``) supplies the
        uniform draws instead of ``generator``, for keyed random streams.
        """
        with torch.no_grad():
            uniform = uniform_draws(self.logits, generator, uniform)
            alpha, _, mass = self._bounds()
            eps = torch.finfo(self.logits.dtype).eps
            level = (torch.special.ndtr(alpha) + uniform * mass).clamp(eps, 1.0 - eps)
            # the clamp keeps ndtri finite; the second clamp undoes its rounding at the bounds
            fraction = self.loc + self.scale * torch.special.ndtri(level)
            return fraction.clamp(0.0, 1.0)

    def mode(self) -> Tensor:
        """The most likely fraction: :math:`\\mu = \\sigma(z)`, which lies in
        :math:`(0, 1)`, where the density peaks (same shape as ``logits``); no gradient.
        """
        return self.loc.detach()

    def power(self, action: Tensor) -> Tensor:
        """Transmit power of power fractions: :math:`p = p_0 x`."""
        return self.max_power * action

    def expected_power(self) -> Tensor:
        """Mean power :math:`p_0\\,\\mathbb{E}[x]` (differentiable)."""
        alpha, beta, mass = self._bounds()
        pdf = _normal_pdf(alpha) - _normal_pdf(beta)
        return self.max_power * (self.loc + self.scale * pdf / mass)

    def log_prob(self, action: Tensor) -> Tensor:
        """Log-density :math:`\\log f(x)` of fractions in ``[0, 1]``, differentiable in
        the logits and the scale.
        """
        _, _, mass = self._bounds()
        standard = (action - self.loc) / self.scale
        return -0.5 * standard.square() - _LOG_SQRT_2PI - self.scale.log() - mass.log()

    def entropy(self) -> Tensor:
        """Differential entropy (nats) of every decision's fraction (``<= 0`` on
        ``[0, 1]``, equal to 0 for the uniform law).
        """
        alpha, beta, mass = self._bounds()
        tails = alpha * _normal_pdf(alpha) - beta * _normal_pdf(beta)
        return _LOG_SQRT_2PI + 0.5 + self.scale.log() + mass.log() + tails / (2.0 * mass)


def _normal_pdf(value: Tensor) -> Tensor:
    return torch.exp(-0.5 * value.square() - _LOG_SQRT_2PI)
