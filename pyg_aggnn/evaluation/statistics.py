r"""Summary statistics of per-network results: means with confidence intervals, quantiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import torch
from torch import Tensor

from pyg_aggnn._validation import check_in_range

__all__ = ["student_t_quantile", "mean_interval", "summarize", "QUANTILES"]

#: Quantiles of the per-link rate distribution reported by every summary.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@lru_cache(maxsize=1024)
def student_t_quantile(prob: float, dof: int) -> float:
    r"""Quantile of Student's t distribution with ``dof`` degrees of freedom.

    Closed forms for ``dof`` 1 and 2; otherwise the Cornish-Fisher expansion around the
    normal quantile :math:`z = \Phi^{-1}(p)` (Abramowitz and Stegun 26.7.5) refined by
    Newton steps on the t CDF, integrated with Simpson's rule (relative error below
    ``1e-6`` for ``p`` in ``[0.5, 0.9995]``).
    """
    check_in_range("prob", prob, 1e-12, 1 - 1e-12)
    if isinstance(dof, bool) or not isinstance(dof, int) or dof < 1:
        raise ValueError(f"dof must be an integer >= 1, got {dof!r}")
    if dof == 1:
        return math.tan(math.pi * (prob - 0.5))
    if dof == 2:
        return (2 * prob - 1) / math.sqrt(2 * prob * (1 - prob))
    z, v = NormalDist().inv_cdf(prob), float(dof)
    t = (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )
    for _ in range(4):
        t -= (_t_cdf(t, v) - prob) / _t_pdf(t, v)
    return t


def _t_pdf(t: float, v: float) -> float:
    log_norm = math.lgamma((v + 1) / 2) - math.lgamma(v / 2) - 0.5 * math.log(v * math.pi)
    return math.exp(log_norm - (v + 1) / 2 * math.log1p(t * t / v))


def _t_cdf(t: float, v: float, intervals: int = 512) -> float:
    """``0.5 + integral_0^t pdf`` by Simpson's rule (the pdf is smooth and unimodal)."""
    h = t / intervals
    total = _t_pdf(0.0, v) + _t_pdf(t, v)
    for k in range(1, intervals):
        total += (4 if k % 2 else 2) * _t_pdf(k * h, v)
    return 0.5 + total * h / 3


def mean_interval(values: Tensor | Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Mean and two-sided Student-t confidence interval of independent samples.

    Args:
        values: ``[n]`` samples, e.g. the sum rate of ``n`` independent networks.
        confidence: coverage of the interval (default: ``0.95``).

    Returns:
        ``{"mean", "ci_low", "ci_high", "std", "n"}``; with one sample the interval is
        the point itself.
    """
    check_in_range("confidence", confidence, 1e-6, 1 - 1e-6)
    data = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    n = data.numel()
    if n == 0:
        raise ValueError("values must hold at least one sample, got none")
    mean = float(data.mean())
    std = float(data.std()) if n > 1 else 0.0
    half = student_t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n) if n > 1 else 0.0
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "std": std, "n": n}


def summarize(
    per_network: dict[str, Tensor],
    link_rate: Tensor,
    confidence: float = 0.95,
) -> dict[str, float]:
    """One row of a results table.

    Args:
        per_network: ``{metric: [B] values}`` over the evaluated networks.
        link_rate: ``[N]`` mean rate of every evaluated link.
        confidence: coverage of the sum rate's interval (default: ``0.95``).

    Returns:
        ``sum_rate`` with ``sum_rate_ci_low``/``_high``, the means of the other metrics,
        ``link_rate_q05`` ... ``link_rate_q95`` quantiles, ``networks`` and ``links``.
    """
    row: dict[str, float] = {}
    for name, values in per_network.items():
        stats = mean_interval(values, confidence)
        row[name] = stats["mean"]
        if name == "sum_rate":
            row["sum_rate_ci_low"] = stats["ci_low"]
            row["sum_rate_ci_high"] = stats["ci_high"]
            row["networks"] = stats["n"]
    rates = torch.as_tensor(link_rate, dtype=torch.float64).reshape(-1)
    levels = torch.tensor(QUANTILES, dtype=torch.float64)
    for level, value in zip(QUANTILES, torch.quantile(rates, levels).tolist()):
        row[f"link_rate_q{round(level * 100):02d}"] = value
    row["links"] = rates.numel()
    return row
