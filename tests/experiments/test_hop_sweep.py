import pytest

from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")


def test_every_size_delta_and_hop_count(tiny_outputs, check):
    folder = tiny_outputs / "hop-sweep"
    check.assert_figure(folder / "hop_sweep")
    rows = check.read_rows(folder / "hop_sweep.csv")
    methods = ["agg", "wmmse_local", "wmmse", "wmmse_central", "equal", "random"]
    check.assert_summary_rows(rows, methods)
    sizes = BUDGET.adhoc_sizes
    assert len(rows) == len(sizes) * len(BUDGET.deltas) * len(BUDGET.hops) * len(methods)
    for row in rows:
        if row["method"] == "wmmse_central":
            assert float(row["relative_to_wmmse_central"]) == pytest.approx(1.0)
    assert {(int(r["m"]), float(r["delta"]), int(r["K"])) for r in rows} == {
        (m, d, k) for m in sizes for d in BUDGET.deltas for k in BUDGET.hops
    }
