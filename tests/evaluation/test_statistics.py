import math

import pytest
import torch
from scipy import stats

from pyg_aggnn.evaluation.statistics import QUANTILES, mean_interval, student_t_quantile, summarize


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 9, 30, 199, 5000])
@pytest.mark.parametrize("prob", [0.6, 0.9, 0.975, 0.995, 0.9995])
def test_t_quantile_matches_scipy(dof, prob):
    assert student_t_quantile(prob, dof) == pytest.approx(stats.t.ppf(prob, dof), rel=1e-6)


def test_interval_matches_scipy_and_covers_the_mean():
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(40, generator=generator, dtype=torch.float64) * 2 + 3
    found = mean_interval(values, confidence=0.9)
    low, high = stats.t.interval(0.9, 39, loc=values.mean().item(), scale=stats.sem(values.numpy()))
    assert found["ci_low"] == pytest.approx(low)
    assert found["ci_high"] == pytest.approx(high)
    assert found["n"] == 40


def test_coverage_of_the_interval_is_close_to_nominal():
    generator = torch.Generator().manual_seed(1)
    hits = 0
    for _ in range(2000):
        sample = torch.randn(8, generator=generator, dtype=torch.float64)
        found = mean_interval(sample)
        hits += found["ci_low"] <= 0.0 <= found["ci_high"]
    assert hits / 2000 == pytest.approx(0.95, abs=0.015)


def test_single_sample_has_a_zero_width_interval():
    found = mean_interval([2.5])
    assert found["ci_low"] == found["ci_high"] == found["mean"] == 2.5


def test_summary_row():
    per_network = {"sum_rate": torch.tensor([1.0, 3.0]), "power": torch.tensor([2.0, 4.0])}
    rates = torch.arange(101, dtype=torch.float64)
    row = summarize(per_network, rates)
    assert row["sum_rate"] == 2.0 and row["power"] == 3.0 and row["networks"] == 2
    assert row["sum_rate_ci_low"] < 2.0 < row["sum_rate_ci_high"]
    for level in QUANTILES:
        assert row[f"link_rate_q{round(level * 100):02d}"] == pytest.approx(100 * level)
    assert row["links"] == 101


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="dof"):
        student_t_quantile(0.9, 0)
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([1.0, 2.0], confidence=1.5)
    with pytest.raises(ValueError, match="values"):
        mean_interval([])
    assert math.isfinite(student_t_quantile(0.975, 10))
