from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")


def test_every_size_for_both_trained_models(tiny_outputs, check):
    folder = tiny_outputs / "scale-transfer"
    check.assert_figure(folder / "scale_transfer")
    rows = check.read_rows(folder / "scale_transfer.csv")
    check.assert_summary_rows(rows, ["agg", "wmmse", "equal", "random"])
    found = {(int(r["trained_m"]), int(r["m"])) for r in rows}
    assert found == {(m, s) for m in BUDGET.adhoc_sizes for s in BUDGET.scale_sizes}
    for row in rows:
        size = int(row["m"])
        assert int(float(row["links"])) == size * int(row["networks"])
        assert abs(float(row["rate_per_link"]) * size - float(row["sum_rate"])) < 1e-9
