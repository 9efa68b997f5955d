import csv

import pytest

from pyg_aggnn.experiments.architectures import seeds_markdown
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


def test_test_rows_record_whether_each_model_stalled(tiny_outputs, check):
    rows = check.read_rows(tiny_outputs / "architectures" / "architectures.csv")
    for row in rows:
        if row["kind"] == "test" and row["method"] in MODELS:
            assert row["stalled_at"] == "" or int(row["stalled_at"]) >= 0


def _seed_table(path, agg, stalled_at=""):
    fields = ["setting", "method", "percent_of_wmmse_central", "kind", "stalled_at"]
    rows = [
        ["GIC K=10, 0 dB", "agg", agg, "test", stalled_at],
        ["GIC K=10, 0 dB", "wmmse", 96.0, "test", ""],
        ["GIC K=10, 0 dB -> m'=20", "agg", agg - 10, "generalisation", ""],
    ]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(rows)
    return path


def test_seeds_markdown_means_and_ranges_over_seed_tables(tmp_path):
    tables = [_seed_table(tmp_path / "s0.csv", 80.0), _seed_table(tmp_path / "s1.csv", 90.0, 7)]
    lines = seeds_markdown(tables).splitlines()
    assert lines[0] == (
        "| setting | seeds | agg | sel | wcgcn | mlp | wmmse | equal | stalled runs |"
    )
    assert lines[2] == (
        "| GIC K=10, 0 dB | 2 | 85.0 (80.0-90.0) | – | – | – | 96.0 (96.0-96.0) | – | 1 of 2 |"
    )
    assert lines[3] == "| GIC K=10, 0 dB → m'=20 | 2 | 75.0 (70.0-80.0) | – | – | – | – | – | – |"
    with pytest.raises(ValueError, match="tables"):
        seeds_markdown([])
