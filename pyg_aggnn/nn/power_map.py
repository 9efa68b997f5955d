r"""Continuous transmit powers from logits, for model-based training.

A policy's logit :math:`z_i` becomes the power :math:`p_i \in [0, p_{0,i}]` through a
*power map*:

* ``"floor"`` (the default): :math:`p = p_0\,\sigma(z)`, whose gradient is never lost
  on the way back: where the sigmoid's slope :math:`\sigma(z)\sigma(-z)` is below
  :data:`FLOOR_SLOPE` and a descent step moves the logit back towards 0, the slope used
  is :data:`FLOOR_SLOPE`; the component that would push it further out keeps the
  sigmoid's slope. The forward values are the sigmoid's.
* ``"clip"``: :math:`p = p_0\,\mathrm{clip}(\tfrac12 + \tfrac{z}{4}, 0, 1)`,
  with slope :math:`p_0/4` inside (the sigmoid's slope at 0, so an untrained policy
  starts the same) and a gradient that is never lost at the bounds: at (or beyond) a
  bound the gradient passes whenever a descent step moves the logit back inside, and
  only the component that would push it further out is dropped (a projected
  straight-through estimator). The bounds themselves are reached exactly, as the
  on/off optima of the sum rate want.
* ``"sigmoid"``: :math:`p = p_0\,\sigma(z)`. Its slope :math:`\sigma(z)\sigma(-z)`
  vanishes at both ends and is exactly zero in float32 for :math:`|z| \gtrsim 17`:
  where the sum rate pulls every power up early in training (the Gaussian interference
  channel at 0 dB), a network driven into full power gets no gradient back, although
  full power is not a stationary point of the problem.

Measured (README, "Model-based training that does not stall"): WCGCN on the 10-link
Gaussian IC at 0 dB stalls at full power (51 % of WMMSE) on every seed with
``"sigmoid"`` and reaches 99 % with ``"clip"`` or ``"floor"``; a plain clamp, whose
gradient is zero beyond the bounds, stalls on some seeds like the sigmoid. On D2D
networks, where most links should stay at full power, ``"clip"`` reaches its bound
within a few steps and stays in that corner (66-72 % of WMMSE), while ``"sigmoid"``
and ``"floor"`` reach 98 %: hence ``"floor"`` as the default.

:func:`saturated` tells which logits no gradient can pass, per map; the stall detector
(:class:`~lightning_modules.StallDetector`) logs its mean.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import check_choice

__all__ = [
    "POWER_MAPS",
    "FLOOR_SLOPE",
    "SATURATION_SLOPE",
    "continuous_power",
    "sigmoid_power",
    "saturated",
]

#: The power maps, default first.
POWER_MAPS = ("floor", "clip", "sigmoid")
#: Smallest slope of the ``"floor"`` map in the direction back towards ``z = 0``.
FLOOR_SLOPE = 0.01
#: A logit is saturated where the map's slope is below this fraction of its maximum.
SATURATION_SLOPE = 1e-3
# sigma(z) sigma(-z) / (1/4) < SATURATION_SLOPE  <=>  |z| > about log(4 / SATURATION_SLOPE)
_SIGMOID_SATURATION = math.log(4.0 / SATURATION_SLOPE)


class _FloorSigmoid(torch.autograd.Function):
    """``sigmoid(z)`` whose slope back towards ``z = 0`` is at least :data:`FLOOR_SLOPE`."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:
        value = torch.sigmoid(z)
        ctx.save_for_backward(z, value)
        return value

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        z, value = ctx.saved_tensors
        # sigma(-z) directly: 1 - sigma(z) rounds to 0 in float32 for z > 17
        slope = value * torch.sigmoid(-z)
        # descent moves z by -grad: back towards 0 where grad has the sign of z
        back = ((z > 0) & (grad > 0)) | ((z < 0) & (grad < 0))
        return grad * torch.where(back, slope.clamp_min(FLOOR_SLOPE), slope)


class _InwardClip(torch.autograd.Function):
    """``clip(u, 0, 1)`` whose gradient is kept wherever descent moves ``u`` inside."""

    @staticmethod
    def forward(ctx, u: Tensor) -> Tensor:
        ctx.save_for_backward(u)
        return u.clamp(0.0, 1.0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (u,) = ctx.saved_tensors
        # descent moves u by -grad: above 1 that is inward where grad > 0, below 0 where < 0
        blocked = ((u > 1) & (grad < 0)) | ((u < 0) & (grad > 0))
        return grad.masked_fill(blocked, 0.0)


def _align(max_power: Tensor | float, like: Tensor) -> Tensor | float:
    if not isinstance(max_power, Tensor):
        return max_power
    return max_power.reshape(*max_power.shape, *([1] * (like.dim() - max_power.dim())))


def sigmoid_power(logits: Tensor, max_power: Tensor | float) -> Tensor:
    r"""Powers :math:`p = p_0\,\sigma(z)`: the ``"sigmoid"`` power map, and the mean power
    of the Bernoulli policy (:meth:`~pyg_aggnn.nn.BernoulliPower.expected_power`).

    Args:
        logits: ``[N, *S]`` logits :math:`z`.
        max_power: ``[N]`` (or ``[N, 1, ...]``) per-link maximum power :math:`p_0`, or a
            float.

    Returns:
        ``[N, *S]`` transmit powers, the unit of ``max_power``.
    """
    return _align(max_power, logits) * torch.sigmoid(logits)


def continuous_power(
    logits: Tensor, max_power: Tensor | float, power_map: str = POWER_MAPS[0]
) -> Tensor:
    r"""Powers :math:`p \in [0, p_0]` of ``logits`` under ``power_map``, differentiable.

    Args:
        logits: ``[N, *S]`` logits :math:`z`.
        max_power: ``[N]`` per-link maximum power :math:`p_0` (or a float).
        power_map: ``"floor"``, ``"clip"`` or ``"sigmoid"`` (default: ``"floor"``).

    Returns:
        ``[N, *S]`` transmit powers, the unit of ``max_power``.
    """
    check_choice("power_map", power_map, POWER_MAPS)
    if power_map == "sigmoid":
        return sigmoid_power(logits, max_power)
    if power_map == "floor":
        fraction = _FloorSigmoid.apply(logits)
    else:
        fraction = _InwardClip.apply(0.5 + 0.25 * logits)
    return _align(max_power, logits) * fraction


def saturated(logits: Tensor, power_map: str = POWER_MAPS[0]) -> Tensor:
    """Which logits pass (almost) no gradient, ``bool`` of the shape of ``logits``.

    ``"sigmoid"`` (also the Bernoulli policy's transmit probability): where its slope is
    below :data:`SATURATION_SLOPE` of its maximum (:math:`|z| > 8.3`). ``"floor"`` and
    ``"clip"``: none, since their gradient always passes back inside.
    """
    check_choice("power_map", power_map, POWER_MAPS)
    if power_map != "sigmoid":
        return torch.zeros_like(logits, dtype=torch.bool)
    return logits.abs() > _SIGMOID_SATURATION
