import pytest

from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.common import MODELS

BUDGET = get_budget("tiny")


def test_comparison_and_generalisation(tiny_outputs, check):
    folder = tiny_outputs / "architectures"
    check.assert_figure(folder / "architectures")
    rows = check.read_rows(folder / "architectures.csv")
    test = [r for r in rows if r["kind"] == "test"]
    general = [r for r in rows if r["kind"] == "generalisation"]
    check.assert_summary_rows(test, [*MODELS, "wmmse_central", "wmmse", "equal", "random"])
    check.assert_summary_rows(general, ["agg", "sel", "wcgcn", "wmmse_central"])
    assert not any(r["method"] == "mlp" for r in general)  # tied to its input size
    scenarios = len(BUDGET.gaussian_links) * len(BUDGET.snrs_db) + 1
    assert len({r["setting"] for r in test}) == scenarios
    assert len({r["setting"] for r in general}) == scenarios * (len(BUDGET.generalisation) - 1)
    for row in rows:
        if row["method"] == "wmmse_central":
            assert float(row["percent_of_wmmse_central"]) == pytest.approx(100.0)
