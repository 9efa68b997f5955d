import json
import shutil

import pytest

from pyg_aggnn.cli import main as pyg_aggnn
from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.cli import EXPERIMENTS
from pyg_aggnn.experiments.common import Context


def test_index_lists_every_experiment_and_its_files(tiny_outputs):
    index = (tiny_outputs / "index.md").read_text()
    assert index.startswith("# Reproduced experiments")
    for name in EXPERIMENTS:
        assert f"## {name}" in index
        output = json.loads((tiny_outputs / name / "output.json").read_text())
        assert output["budget"]["name"] == "tiny" and output["seconds"] > 0
        for figure in output["figures"]:
            assert f"]({figure}.png)" in index and (tiny_outputs / f"{figure}.png").is_file()
        for table in output["tables"]:
            assert (tiny_outputs / table).is_file()


def test_rerun_reuses_the_trained_runs(tiny_outputs, capsys):
    assert (
        pyg_aggnn(["reproduce", "constraint-violation", "--tiny", "--out", str(tiny_outputs)]) == 0
    )
    printed = capsys.readouterr().out
    assert printed.count("reusing the trained model") == 2
    assert ": training" not in printed


def test_unknown_experiment_is_refused(capsys):
    with pytest.raises(SystemExit):
        pyg_aggnn(["reproduce", "figure-99", "--tiny"])
    assert "invalid choice" in capsys.readouterr().err


def test_seed_trains_its_own_runs(tiny_outputs, tmp_path, capsys):
    out = tmp_path / "seed1"
    shutil.copytree(tiny_outputs, out)
    argv = ["reproduce", "constraint-violation", "--tiny", "--out", str(out), "--seed", "1"]
    assert pyg_aggnn(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count(": training") == 2 and "reusing" not in printed
    seeds = sorted(
        json.loads(path.read_text())["spec"]["seed"] for path in out.glob("runs/*/run.json")
    )
    # the seed-0 runs copied from the shared outputs, and the two new ones
    assert seeds.count(1) == 2 and 0 in seeds
    assert pyg_aggnn(argv) == 0
    assert capsys.readouterr().out.count("reusing the trained model") == 2


def test_negative_seed_is_refused(capsys):
    with pytest.raises(SystemExit) as error:
        pyg_aggnn(["reproduce", "hop-sweep", "--tiny", "--seed", "-1"])
    assert error.value.code == 2
    assert "--seed must be a non-negative integer, got -1" in capsys.readouterr().err


def test_context_refuses_a_negative_seed(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        Context(tmp_path, get_budget("tiny"), seed=-1)
