from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.constraint_violation import moving_average

BUDGET = get_budget("tiny")


def test_violation_over_training(tiny_outputs, check):
    folder = tiny_outputs / "constraint-violation"
    check.assert_figure(folder / "constraint_violation")
    rows = check.read_rows(folder / "constraint_violation.csv")
    for m in BUDGET.adhoc_sizes:
        val = [r for r in rows if r["m"] == str(m) and r["split"] == "val"]
        assert len(val) == BUDGET.steps // BUDGET.eval_every + 1
        assert any(r["split"] == "train" and r["m"] == str(m) for r in rows)
    # a relative excess over the budget: -1 means silent, 0 exactly the budget, p0/p_bar - 1 at most
    assert all(-1.0 <= float(r["violation"]) <= 1.0 + 1e-6 for r in rows)


def test_moving_average():
    assert moving_average([1.0, 3.0, 5.0, 7.0], window=2) == [1.0, 2.0, 4.0, 6.0]
