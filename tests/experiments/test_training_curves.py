from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")


def test_curves_and_final_test(tiny_outputs, check):
    folder = tiny_outputs / "training-curves"
    check.assert_figure(folder / "training_curves")
    curve = check.read_rows(folder / "training_curves.csv")
    points = BUDGET.steps // BUDGET.eval_every + 1  # step 0 included
    for m in BUDGET.adhoc_sizes:
        for model in ("agg", "sel"):
            val = [
                r for r in curve if r["m"] == str(m) and r["model"] == model and r["split"] == "val"
            ]
            assert [float(r["step"]) for r in val] == [k * BUDGET.eval_every for k in range(points)]
            assert all(
                r["sum_rate_wmmse"] and r["sum_rate_equal"] and r["sum_rate_random"] for r in val
            )
    final = check.read_rows(folder / "final_test.csv")
    assert {r["setting"] for r in final} == {f"m={m}" for m in BUDGET.adhoc_sizes}
    check.assert_summary_rows(final, ["agg", "sel", "wmmse", "equal", "random"])
    assert all(int(r["networks"]) == BUDGET.test_size for r in final)
