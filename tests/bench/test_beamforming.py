import json

from pyg_aggnn.bench.beamforming import beamforming_suite, bench_scenario
from pyg_aggnn.bench.cli import main


def test_rows_time_both_methods_on_one_network():
    (row,) = beamforming_suite([20], wmmse_iters=3, budget_s=0.05)
    assert row["K"] == 20 and row["pairs"] == 20 * 19  # below 257 links every pair is kept
    assert row["wcgcn_median_s"] > 0 and row["wmmse_median_s"] > 0
    assert row["graph_edges"] <= row["pairs"]
    big = bench_scenario(400)
    assert big.cutoff_distance() < 400  # pairs beyond ~300 m are not materialized
    assert big.field_side_m == 1000.0 * (400 / 50) ** 0.5


def test_bench_cli_runs_the_beamforming_suite(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["--quick", "--suites", "beamforming", "--max-m", "50", "--budget-s", "0.05"]
    assert main([*args, "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]["beamforming"]
    assert [r["K"] for r in rows] == [50] and rows[0]["device"] == "cpu"
    assert "WCGCN decision of all links vs WMMSE beamforming" in capsys.readouterr().out
