"""Time-correlated Rayleigh fast fading."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pyg_aggnn._validation import check_in_range, check_positive, check_positive_int

__all__ = ["ar1_rayleigh"]


def ar1_rayleigh(
    num_pairs: int,
    num_slots: int,
    delta: float,
    fading_var: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    return_complex: bool = False,
) -> Tensor:
    r"""Amplitudes :math:`|f(t)|` of ``num_pairs`` independent AR(1) Rayleigh processes.

    .. math::
        f(t+1) = \sqrt{1-\delta}\, f(t) + \sqrt{\delta}\, w(t+1), \qquad
        w \sim \mathcal{CN}(0, 2\sigma^2)

    with :math:`\mathrm{Re}\,w, \mathrm{Im}\,w \sim \mathcal{N}(0, \sigma^2)` independent and
    :math:`f(0)` drawn from the stationary law, so :math:`E|f(t)|^2 = 2\sigma^2` at every
    slot and the lag-1 correlation of :math:`f` is :math:`\sqrt{1 - \delta}`.

    Args:
        num_pairs: number of independent processes ``E``.
        num_slots: number of slots ``T``.
        delta: innovation factor in ``[0, 1]`` (``1``: i.i.d., ``0``: frozen).
        fading_var: :math:`\sigma^2`, variance of the real and imaginary parts
            (default: ``1.0``, as in the papers).
        generator: CPU random generator (default: torch's global one).
        dtype: floating dtype of the result.
        return_complex: return the complex coefficients :math:`f(t)` (as ``[E, T, 2]``
            real and imaginary parts) instead of the amplitudes (default: ``False``).

    Returns:
        ``[E, T]`` amplitudes (non-negative), or ``[E, T, 2]`` with ``return_complex``.
    """
    check_positive_int("num_pairs", num_pairs, minimum=0)
    check_positive_int("num_slots", num_slots)
    check_in_range("delta", delta, 0.0, 1.0)
    sigma = math.sqrt(check_positive("fading_var", fading_var))
    keep, innovate = math.sqrt(1.0 - delta), math.sqrt(delta)
    # slots are filled row by row in a [T, E] buffer, transposed once at the end
    out = torch.empty(num_slots, num_pairs, *((2,) if return_complex else ()), dtype=dtype)

    def emit(t: int, state: Tensor) -> None:
        if return_complex:
            out[t] = state.T
        else:
            torch.hypot(state[0], state[1], out=out[t])

    # Re and Im evolve in one [2, E] array; the stationary start keeps E|f|^2 constant.
    state = torch.randn(2, num_pairs, generator=generator, dtype=dtype) * sigma
    emit(0, state)
    for t in range(1, num_slots):
        noise = torch.randn(2, num_pairs, generator=generator, dtype=dtype)
        state.mul_(keep).add_(noise, alpha=innovate * sigma)
        emit(t, state)
    return out.transpose(0, 1).contiguous()
