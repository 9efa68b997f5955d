import csv
import json
from pathlib import Path

import pytest

from pyg_aggnn.cli import main as pyg_aggnn
from pyg_aggnn.data import GenerationConfig, generate_dataset

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _summary(folder):
    with (folder / "summary.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_evaluate_prints_and_writes_every_method(tiny_run, tmp_path, capsys):
    out = tmp_path / "eval"
    code = pyg_aggnn(
        [
            "evaluate",
            f"agg={tiny_run.checkpoint}",
            "--episodes",
            "3",
            "--baselines",
            "wmmse",
            "equal",
            "random",
            "exhaustive",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "sum rate" in printed and "95% CI" in printed
    rows = _summary(out)
    assert [r["method"] for r in rows] == ["agg", "wmmse", "equal", "random", "exhaustive"]
    assert all(r["setting"] == "m=5" and int(r["networks"]) == 3 for r in rows)
    exhaustive = float(rows[-1]["sum_rate"])  # the binary optimum under the budget
    assert all(float(r["sum_rate"]) <= exhaustive + 1e-6 for r in rows if r["method"] == "random")
    document = json.loads((out / "summary.json").read_text())
    assert document["config"]["warmup_slots"] == 2 and document["config"]["wmmse_iters"] == 3


def test_evaluate_shows_both_wmmse_prices_and_the_binary_bound_by_default(tiny_run, tmp_path):
    out = tmp_path / "eval"
    assert (
        pyg_aggnn(["evaluate", f"agg={tiny_run.checkpoint}", "--episodes", "2", "--out", str(out)])
        == 0
    )
    rows = {r["method"]: r for r in _summary(out)}
    assert list(rows) == ["agg", "wmmse", "wmmse_local", "binary", "equal", "random", "exhaustive"]
    # m = 5: the binary bound is exact, the exhaustive optimum
    assert float(rows["binary"]["sum_rate"]) == pytest.approx(float(rows["exhaustive"]["sum_rate"]))


@pytest.mark.parametrize(
    ("mode", "values", "labels"),
    [
        ("scale", ["5", "10"], ["m=5", "m=10"]),
        ("delta", ["0.1", "1"], ["delta=0.1", "delta=1"]),
        ("async", ["0", "2"], ["sync", "lam=2"]),
    ],
)
def test_transference_modes(tiny_run, tmp_path, mode, values, labels):
    out = tmp_path / mode
    pyg_aggnn(
        [
            "evaluate",
            str(tiny_run.checkpoint),
            "--episodes",
            "2",
            "--transfer",
            mode,
            "--values",
            *values,
            "--baselines",
            "equal",
            "--out",
            str(out),
        ]
    )
    rows = _summary(out)
    assert [r["setting"] for r in rows] == [label for label in labels for _ in range(2)]
    sizes = {r["setting"]: float(r["links"]) for r in rows}
    if mode == "scale":
        assert sizes == {"m=5": 10, "m=10": 20}


def test_evaluate_on_a_dataset(tmp_path):
    config = GenerationConfig.from_file(CONFIGS / "data" / "tiny.yaml")
    path = generate_dataset(config, tmp_path, name="tiny", progress=False, fsync=False)
    out = tmp_path / "eval"
    pyg_aggnn(
        [
            "evaluate",
            "--dataset",
            str(path),
            "--split",
            "larger",
            "--episodes",
            "3",
            "--warmup-slots",
            "0",
            "--baselines",
            "equal",
            "random",
            "--out",
            str(out),
        ]
    )
    rows = _summary(out)
    assert [(r["setting"], r["method"], r["networks"]) for r in rows] == [
        ("larger", "equal", "3"),
        ("larger", "random", "3"),
    ]
    assert float(rows[0]["links"]) == 36


def test_bad_arguments_exit_with_a_message(tmp_path, capsys):
    assert pyg_aggnn(["evaluate", str(tmp_path / "missing.ckpt"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: checkpoint") and "missing.ckpt" in err


def test_the_mode_is_one_deterministic_policy(tiny_run, tmp_path, capsys):
    def agg(*extra):
        out = tmp_path / "_".join(extra)
        args = ["evaluate", f"agg={tiny_run.checkpoint}", "--episodes", "3", "--out", str(out)]
        assert pyg_aggnn([*args, "--baselines", "equal", *extra]) == 0
        return float(_summary(out)[0]["sum_rate"])

    # the mode draws nothing: the same powers in every sample, whatever their number
    assert agg("--decision", "mode", "--samples", "1") == agg(
        "--decision", "mode", "--samples", "3"
    )
    assert agg("--samples", "1") != agg("--samples", "3")  # draws differ between samples
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        pyg_aggnn(["evaluate", str(tiny_run.checkpoint), "--decision", "greedy"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--decision" in err and "greedy" in err and "mode" in err
