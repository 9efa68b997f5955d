from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")


def test_asynchronous_curve_and_test(tiny_outputs, check):
    folder = tiny_outputs / "asynchronous"
    check.assert_figure(folder / "asynchronous")
    curve = check.read_rows(folder / "training_curve.csv")
    assert len([r for r in curve if r["split"] == "val"]) == BUDGET.steps // BUDGET.eval_every + 1
    final = check.read_rows(folder / "final_test.csv")
    check.assert_summary_rows(final, ["agg", "wmmse", "equal", "random"])
    assert all(int(r["networks"]) == BUDGET.test_size for r in final)
