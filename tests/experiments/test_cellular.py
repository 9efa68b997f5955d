from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.cellular import CURVE_HOPS

BUDGET = get_budget("tiny")


def test_curve_and_hop_sweep(tiny_outputs, check):
    folder = tiny_outputs / "cellular"
    check.assert_figure(folder / "cellular")
    curve = check.read_rows(folder / "training_curve.csv")
    assert {int(r["K"]) for r in curve} == {CURVE_HOPS}
    sweep = check.read_rows(folder / "hop_sweep.csv")
    check.assert_summary_rows(sweep, ["agg", "wmmse", "equal", "random"])
    assert {int(r["K"]) for r in sweep} == set(BUDGET.cellular_hops)
    cells, users = BUDGET.cells
    assert all(int(float(r["links"])) == cells * users * BUDGET.test_size for r in sweep)
