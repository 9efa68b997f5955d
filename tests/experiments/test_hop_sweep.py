import pytest

from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")


def test_every_delta_and_hop_count(tiny_outputs, check):
    folder = tiny_outputs / "hop-sweep"
    check.assert_figure(folder / "hop_sweep")
    rows = check.read_rows(folder / "hop_sweep.csv")
    methods = ["agg", "wmmse", "wmmse_central", "equal", "random"]
    check.assert_summary_rows(rows, methods)
    assert len(rows) == len(BUDGET.deltas) * len(BUDGET.hops) * len(methods)
    for row in rows:
        if row["method"] == "wmmse_central":
            assert float(row["relative_to_wmmse_central"]) == pytest.approx(1.0)
    assert {(float(r["delta"]), int(r["K"])) for r in rows} == {
        (d, k) for d in BUDGET.deltas for k in BUDGET.hops
    }
