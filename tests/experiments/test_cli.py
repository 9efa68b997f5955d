import json

import pytest

from pyg_aggnn.cli import main as pyg_aggnn
from pyg_aggnn.experiments.cli import EXPERIMENTS


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
