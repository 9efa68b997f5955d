import json

import numpy as np
import pytest
import torch

from pyg_aggnn.baselines import wmmse
from pyg_aggnn.bench.cli import main
from pyg_aggnn.bench.latency import loglog_slope
from pyg_aggnn.bench.timing import measure
from pyg_aggnn.bench.wmmse import numpy_wmmse, wmmse_scaling_suite
from pyg_aggnn.wireless import GaussianIC, physics


def test_loglog_slope_recovers_power_law():
    x = [1e3, 1e4, 1e5]
    assert loglog_slope(x, [2 * v**1.5 for v in x]) == pytest.approx(1.5)


def test_measure_counts_and_orders():
    calls = []
    stats = measure(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and stats["repeats"] == 5
    assert stats["min_s"] <= stats["median_s"] <= stats["max_s"]


def test_numpy_reference_equals_library_wmmse():
    ep = GaussianIC(6, snr_db=10.0).episode(1, seed=0, dtype=torch.float64)
    H = ep.dense_gain(0).numpy()[None]
    ref = numpy_wmmse(H, 1.0, ep.noise_power[0].item(), np.ones((1, 6)), 30)[0]
    ours = wmmse(
        ep.direct_gain[:, 0], ep.edge_index, ep.edge_gain[:, 0], 1.0, ep.noise_power, num_iters=30
    )
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-10)
    assert bool((ours >= 0).all() and (ours <= 1.0 + 1e-12).all())
    # WMMSE beats full power on this network
    full = physics.sum_rate(ep.rates(torch.ones(6, dtype=torch.float64), slot=0))
    assert physics.sum_rate(ep.rates(ours, slot=0)) >= full - 1e-9


def test_wmmse_scaling_rows_match_reference():
    rows = wmmse_scaling_suite([30], hops=3, repeats=1)
    assert [r["mode"] for r in rows] == ["centralized", "distributed"]
    assert all(r["max_abs_power_diff"] < 1e-8 for r in rows)


def test_bench_cli_writes_json_and_plot(tmp_path, capsys):
    out, plot = tmp_path / "bench.json", tmp_path / "latency.png"
    assert (
        main(
            [
                "--quick",
                "--suites",
                "latency",
                "--max-m",
                "100",
                "--json",
                str(out),
                "--plot",
                str(plot),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    rows = report["results"]["latency"]
    assert {r["model"] for r in rows} == {"AggGNN", "SelectionGNN", "WCGCN"}
    assert all(r["m"] == 100 and r["median_s"] > 0 for r in rows)
    assert report["machine"]["torch"] == torch.__version__
    assert plot.stat().st_size > 1000
    assert "Decision latency" in capsys.readouterr().out


def test_bench_cli_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        main(["--max-m", "0"])
    with pytest.raises(SystemExit):
        main(["--suites", "nothing"])


def test_bench_cli_runs_a_measurement_in_depth_with_its_own_options(capsys):
    main(["evaluation_scale", "--sizes", "30", "--networks", "1", "--slots", "6", "--repeats", "1"])
    lines = capsys.readouterr().out.splitlines()
    header = lines[1].split()
    row = dict(zip(header, lines[2].split()))
    assert header[:3] == ["m", "edges/link", "simulate"]
    assert row["m"] == "30" and float(row["edges/link"]) == 30.0  # complete candidate graph
    assert all(float(row[name]) > 0 for name in ("agg", "wmmse", "equal"))


def test_bench_cli_renders_the_training_quality_table(tmp_path, capsys):
    rows = [
        {"config": "wcgcn/x", "seed": s, "percent_of_wmmse": p, "seconds": 60.0, "steps": 10}
        | {"stalled_at": None if s else 3}
        for s, p in ((0, 90.0), (1, 100.0))
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    main(["train_quality", "--table", str(path)])
    table = capsys.readouterr().out.splitlines()
    assert table[2] == "| `wcgcn/x` | 0, 1 | 95.0 | 90.0 | 100.0 | 1 | 10 steps, 1.0 min |"


def test_model_free_table_shows_a_baseline_only_where_it_was_logged():
    from pyg_aggnn.bench.train_quality import model_free_markdown

    def row(setting, seed, rate, baselines):
        metrics = {"test/sum_rate": rate, "test/violation": -0.1}
        metrics |= {f"test/sum_rate_{name}": value for name, value in baselines.items()}
        return {"setting": setting, "name": "AggGNN", "seed": seed, "metrics": metrics}

    rows = [
        row("m25", 0, 1.0, {"wmmse_local": 2.0, "wmmse": 4.0}),
        row("async", 0, 1.0, {"wmmse_local": 2.0, "wmmse_local_awake": 1.0, "wmmse": 4.0}),
        row("async", 1, 3.0, {"wmmse_local": 2.0, "wmmse_local_awake": 2.0, "wmmse": 4.0}),
    ]
    rows[1]["metrics"]["test/mode_sum_rate"] = 1.1  # the mode, where it was logged
    rows[2]["metrics"]["test/mode_sum_rate"] = 3.6
    without = model_free_markdown([rows[0]]).splitlines()  # no row logged the mode: no column
    assert without[0].endswith("| vs wmmse_local | vs wmmse |")
    lines = model_free_markdown(rows).splitlines()
    assert lines[0].endswith("| vs wmmse_local | vs wmmse_local_awake | vs wmmse | mode / draws |")
    assert lines[2] == "| m25 | AggGNN | 0 | 1.0000 [1.0000, 1.0000] | 90.0 [90.0, 90.0] % | " + (
        "0.500 [0.500, 0.500] | – | 0.250 [0.250, 0.250] | – |"
    )
    assert lines[3].split(" | ")[2:] == [
        "0, 1",
        "2.0000 [1.0000, 3.0000]",
        "90.0 [90.0, 90.0] %",
        "1.000 [0.500, 1.500]",
        "1.250 [1.000, 1.500]",
        "0.500 [0.250, 0.750]",
        "1.1500 [1.1000, 1.2000] |",
    ]


def test_train_quality_passes_fit_args_and_labels_the_variant(monkeypatch, capsys):
    from pyg_aggnn.bench import train_quality

    calls = []

    def fake_run(name, args, seed, root):
        calls.append((name, args, seed))
        metrics = {"test/sum_rate": 1.0, "test/violation": -0.1, "test/sum_rate_wmmse_local": 2.0}
        return {"name": name, "seconds": 1.0, "reached": 1.0, "metrics": metrics}

    monkeypatch.setattr(train_quality, "run", fake_run)
    monkeypatch.setattr(train_quality, "report", lambda *args: None)
    fit_args = "--model.policy.init_args.features '[state, power]'"
    main(["train_quality", "--settings", "async_m50", "--seeds", "3", "--fit-args", fit_args])
    main(["train_quality", "--settings", "async_m50", "--label", "feedback"])
    config = train_quality.SETTINGS["async_m50"]["AggGNN"]
    assert calls[0] == (
        "AggGNN",
        [*config, "--model.policy.init_args.features", "[state, power]"],
        3,
    )
    assert calls[1] == ("AggGNN, feedback", config, 0)
    assert "| async_m50 | AggGNN, feedback | 0 |" in capsys.readouterr().out


def test_rebaseline_replaces_the_priced_baselines_only(monkeypatch, tmp_path, capsys):
    import json

    from pyg_aggnn.bench import train_quality

    def metrics(local, awake, equal=0.5):
        return {
            "test/sum_rate": 1.0,
            "test/violation": -0.1,
            "test/sum_rate_wmmse_local": local,
            "test/violation_wmmse_local_awake": awake - 1.0,
            "test/sum_rate_wmmse_local_awake": awake,
            "test/sum_rate_equal": equal,
        }

    fresh = metrics(2.0, 1.25)
    fresh["test/sum_rate"] = 0.1  # the untrained policy's: not taken
    calls = []

    def fake_test(args, seed, root):
        calls.append((args, seed))
        return dict(fresh)

    monkeypatch.setattr(train_quality, "baseline_metrics", fake_test)
    rows = [
        {"setting": "async_m50", "name": "AggGNN, a variant", "seed": 1, "metrics": metrics(3, 4)},
        {"setting": "async_m50", "name": "AggGNN", "seed": 1, "metrics": metrics(3, 4)},
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    main(["train_quality", "--rebaseline", str(path)])
    assert "| async_m50 | AggGNN, a variant | 1 |" in capsys.readouterr().out
    assert calls == [(train_quality.SETTINGS["async_m50"]["AggGNN"], 1)]  # once per run key
    for row in json.loads(path.read_text()):
        assert row["metrics"] == metrics(2.0, 1.25)  # the policy's own numbers kept
    rows[0]["metrics"]["test/sum_rate_equal"] = 0.6  # not the row's episodes
    with pytest.raises(ValueError, match="sum_rate_equal"):
        train_quality.rebaseline(rows, tmp_path)
    with pytest.raises(ValueError, match="not one of the setting's configs"):
        train_quality.rebaseline([{**rows[1], "name": "WCGCN"}], tmp_path)


def test_train_quality_needs_a_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as raised:
        main(["train_quality", "--seeds", "0"])
    assert raised.value.code == 2
    assert "no configs/ folder here" in capsys.readouterr().err


def test_train_throughput_times_both_loops_on_the_same_episodes(capsys):
    from pyg_aggnn.bench import train_throughput

    config, _ = train_throughput.SETTINGS["wcgcn_gaussian_ic_k10"]
    extra = ["--data.train_size", "128"]
    plain = train_throughput.plain_pyg_loop(config, extra, steps=3, warmup=1)
    ours = train_throughput.ours(config, extra, steps=3, warmup=1)
    for result in (plain, ours):
        assert result["batch_size"] == 64
        assert 0 < result["median_step_s"] < 60 and result["setup_s"] >= 0
    with pytest.raises(SystemExit):
        train_throughput.main(["--settings", "nothing"])


def test_the_plain_loop_decides_each_slot_from_the_slots_up_to_it():
    """The per-slot forward passes of the plain loop give the logits the policy computes
    for every slot at once (the Agg-GNN is causal): the same loss as ours.
    """
    from torch_geometric.loader import DataLoader

    from pyg_aggnn.bench.train_throughput import first_slots
    from pyg_aggnn.nn import AggGNN
    from pyg_aggnn.wireless import AdHoc

    gen = torch.Generator().manual_seed(0)
    episodes = [AdHoc(num_links=6).episode(7, generator=gen) for _ in range(3)]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    policy = AggGNN(K=3, num_layers=2, hidden_channels=3, kernel_size=2).eval()
    every = policy.logits(batch, all_slots=True)
    for t in range(batch.num_slots):
        sliced = first_slots(batch, t + 1)
        assert sliced.direct_gain.size(1) == sliced.edge_weight.size(1) == t + 1
        torch.testing.assert_close(policy.logits(sliced), every[:, t], rtol=1e-5, atol=1e-6)
    assert batch.direct_gain.size(1) == 7  # the batch itself is untouched


def test_the_plain_loop_trains_on_the_configs_scored_slots():
    from pyg_aggnn.bench import train_throughput

    config, extra = train_throughput.SETTINGS["aggnn_default_model_based"]
    extra = [*extra[:-1], "128"]  # a smaller training set
    every = train_throughput.plain_pyg_loop(config, extra, steps=2, warmup=1)
    last = train_throughput.plain_pyg_loop(config, extra, steps=2, warmup=1, last_slot_only=True)
    assert every["scored_slots"] == 6 and last["scored_slots"] == 1  # 10 slots, 4 warm-up


def test_the_plain_loop_aggregates_with_pygs_own_maximum():
    from torch_geometric.nn import MessagePassing

    from pyg_aggnn.bench.train_throughput import pyg_aggregation
    from pyg_aggnn.nn import WCGCN, WCGCNConv

    policy = WCGCN()
    convs = [m for m in policy.modules() if isinstance(m, WCGCNConv)]
    assert convs and all(c.aggregate.__func__ is WCGCNConv.aggregate for c in convs)
    pyg_aggregation(policy)
    assert all(c.aggregate.__func__ is MessagePassing.aggregate for c in convs)
    assert WCGCNConv.aggregate is not MessagePassing.aggregate  # the class keeps its own


def test_the_wmmse_roofline_counts_the_products_bytes_and_flops():
    from pyg_aggnn.bench.wmmse_speed import roofline

    bound = roofline(B=10, m=5, iters=3, repeats=1)
    assert bound["bytes"] == 2 * 10 * 5 * 5 * 8 * 3  # two products read every matrix
    assert bound["flops"] == 2 * 2 * 10 * 5 * 5 * 3
    for rate in ("memory_bw", "cache_bw", "peak"):
        assert bound[rate] > 0
    assert bound["memory_s"] == pytest.approx(bound["bytes"] / bound["memory_bw"])
    assert bound["flops_s"] == pytest.approx(bound["flops"] / bound["peak"])


def test_the_agg_gnn_products_alone_take_less_than_its_decision():
    from pyg_aggnn.bench.model_latency import sparse_products_seconds, time_model
    from pyg_aggnn.nn import AggGNN
    from pyg_aggnn.wireless import AdHoc

    episode = AdHoc(200, reference_links=25).episode(10, seed=0)
    model = AggGNN.synchronous()
    products = sparse_products_seconds(model, episode, repeats=5)
    decision = min(time_model(model, episode, repeats=5, warmup=1)[0])
    assert 0 < products < decision


def test_training_quality_report_fits_its_columns_to_the_names(capsys):
    from pyg_aggnn.bench.train_quality import report

    metrics = {"test/sum_rate": 0.2, "test/violation": -0.3}
    report("bare", 0, [{"name": "AggGNN", "metrics": metrics, "seconds": 1, "reached": 1}])
    metrics |= {"test/sum_rate_wmmse_local_awake": 0.25, "test/violation_wmmse_local_awake": 0.0}
    report("async", 0, [{"name": "AggGNN", "metrics": metrics, "seconds": 1, "reached": 1}])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == [
        "allocation",
        "sum",
        "rate",
        "budget",
        "use",
        "train",
        "s",
        "2%",
        "at",
        "s",
    ]
    header, row = lines[-3], lines[-2]
    assert "vs wmmse_local_awake" in header and row.split()[3] == "0.800"
    assert (
        header.index("vs wmmse_local_awake") + len("vs wmmse_local_awake") == row.index("0.800") + 5
    )


def test_training_quality_report_shows_the_mode_beside_the_draws(capsys):
    from pyg_aggnn.bench.train_quality import report

    metrics = {"test/sum_rate": 0.2, "test/violation": -0.3, "test/sum_rate_binary": 0.25}
    metrics |= {"test/violation_binary": 0.0, "test/mode_sum_rate": 0.22}
    metrics |= {"test/mode_violation": -0.1}
    report("m50", 0, [{"name": "AggGNN", "metrics": metrics, "seconds": 1, "reached": 1}])
    rows = {
        line.split("  ")[0].strip(): line.split()
        for line in capsys.readouterr().out.splitlines()[2:]
    }
    assert rows["AggGNN (mode)"][-3:] == ["0.2200", "90.0%", "0.880"]
    assert rows["AggGNN"][1:4] == ["0.2000", "70.0%", "0.800"]
