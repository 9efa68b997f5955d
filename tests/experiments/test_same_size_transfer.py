from pyg_aggnn.experiments.budget import get_budget

BUDGET = get_budget("tiny")
METHODS = ["agg", "wmmse", "equal", "random"]


def test_histograms_of_new_networks(tiny_outputs, check):
    folder = tiny_outputs / "same-size-transfer"
    check.assert_figure(folder / "same_size_transfer")
    summary = check.read_rows(folder / "summary.csv")
    check.assert_summary_rows(summary, METHODS)
    networks = check.read_rows(folder / "networks.csv")
    assert len(networks) == len(BUDGET.adhoc_sizes) * len(METHODS) * BUDGET.test_size
    for row in summary:  # the summary is the mean of the networks
        values = [
            float(n["sum_rate"])
            for n in networks
            if n["setting"] == row["setting"] and n["method"] == row["method"]
        ]
        assert abs(sum(values) / len(values) - float(row["sum_rate"])) < 1e-9
