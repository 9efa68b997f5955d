import pytest

from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.common import Context
from pyg_aggnn.experiments.hop_sweep import stale_channel_ratio

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

    stale = check.read_rows(folder / "stale_channel.csv")
    assert {(int(r["m"]), float(r["delta"]), int(r["lag"])) for r in stale} == {
        (m, d, k) for m in sizes for d in {*BUDGET.deltas, 1.0} for k in BUDGET.hops
    }
    assert all(0 < float(r["ratio"]) < 1.5 for r in stale)


def test_a_channel_that_does_not_change_loses_nothing_by_being_old(tmp_path):
    ctx = Context(out=tmp_path, budget=BUDGET)
    # delta = 0: the fading never changes, so the old allocation is the current one
    assert stale_channel_ratio(ctx, 8, 0.0, 3) == pytest.approx(1.0, abs=1e-12)
    # i.i.d. fading: the allocation of another channel does worse than the current one's
    assert stale_channel_ratio(ctx, 8, 1.0, 1) < 1.0
    with pytest.raises(ValueError, match="lag must be"):
        stale_channel_ratio(ctx, 8, 0.3, 0)
