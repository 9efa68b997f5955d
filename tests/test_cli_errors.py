"""Every command answers a bad input with one line ``error: <what>`` and exit status 2
(the usage line too when an argument does not parse); ``--debug`` shows the traceback.
"""

import logging
import sys

import pytest

from pyg_aggnn import cli
from pyg_aggnn._cli_errors import exit_status, one_line, split_debug
from pyg_aggnn.data import DatasetError


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (the test's capture)."""

    def write(self, text):
        return sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()


@pytest.fixture(autouse=True)
def _command_line(monkeypatch):
    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])
    monkeypatch.delenv("PYG_AGGNN_DEBUG", raising=False)
    # Lightning's log handler keeps the stderr of the test that imported Lightning
    import lightning

    for handler in logging.getLogger(lightning.__name__).handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", _CurrentStderr())


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    # Lightning's one "Seed set to 0" line may come first, nothing else
    assert len(err.splitlines()) <= 2, err
    return errors[0]


def _usage_and_error(capsys, command) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"usage: pyg-aggnn {command}") and "--help" in lines[0]
    assert lines[1].startswith("error: ")
    return lines[1]


BAD_VALUES = [
    (["fit", "--data.batch_size", "0"], "batch_size must be an integer >= 1, got 0"),
    (["fit", "--model.lr", "-1"], "lr must be >= 0, got -1.0"),
    (["fit", "--trainer.max_epochs", "-2"], "max_epochs"),
    (["validate", "--data.val_size", "0"], "val_size"),
    (["test", "--model.action_samples", "0"], "action_samples"),
    (["train", "--data.batch_size", "0"], "batch_size"),
]


@pytest.mark.parametrize("argv, what", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_training_values_are_one_error_line(argv, what, tmp_path, capsys):
    assert cli.main([*argv, "--trainer.default_root_dir", str(tmp_path)]) == 2
    assert what in _error_line(capsys)
    assert not list(tmp_path.rglob("*.ckpt"))


def _config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


PARSE_ERRORS = [
    (lambda tmp: ["fit", "--data.batch_size", "abc"], "data.batch_size"),
    (lambda tmp: ["fit", "--model.lrr", "3"], "--model.lrr"),
    (lambda tmp: ["fit", "--config", str(tmp / "missing.yaml")], "missing.yaml"),
    (lambda tmp: ["fit", "--config", _config(tmp, "model:\n  lr: [1\n")], "parsing config"),
    (lambda tmp: ["fit", "--config", _config(tmp, "model:\n  lrr: 1\n")], "model.lrr"),
    (lambda tmp: ["train", "--trainer.max_epochs", "many"], "max_epochs"),
]


@pytest.mark.parametrize("make_argv, what", PARSE_ERRORS)
def test_training_arguments_that_do_not_parse_give_usage_and_error(
    make_argv, what, tmp_path, capsys
):
    argv = make_argv(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert what in _usage_and_error(capsys, argv[0])


def test_a_config_value_that_is_refused_is_one_error_line(tmp_path, capsys):
    config = _config(tmp_path, "trainer:\n  max_epochs: -2\n")
    assert cli.main(["fit", "--config", config, "--trainer.default_root_dir", str(tmp_path)]) == 2
    assert "max_epochs" in _error_line(capsys)


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    argv = ["fit", "--model.lr", "-1", "--trainer.default_root_dir", str(tmp_path)]
    with pytest.raises(ValueError, match="lr must be >= 0"):
        cli.main(["--debug", *argv])
    with pytest.raises(ValueError, match="lr must be >= 0"):
        cli.main([*argv, "--debug"])
    monkeypatch.setenv("PYG_AGGNN_DEBUG", "1")
    with pytest.raises(ValueError, match="lr must be >= 0"):
        cli.main(argv)


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(args):
        raise RuntimeError("a bug, not a bad input")

    monkeypatch.setattr("pyg_aggnn.evaluation.cli.run_evaluation", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["evaluate"])


ARGPARSE_COMMANDS = [
    ["evaluate", "--episodes", "many"],
    ["evaluate", "--transfer", "sideways"],
    ["reproduce", "figure-99"],
    ["bench", "--max-m", "0"],
    ["generate", "--workers", "2"],
    ["generate", "--config", "x.yaml", "--workers", "two"],
]


@pytest.mark.parametrize("argv", ARGPARSE_COMMANDS, ids=" ".join)
def test_other_commands_give_usage_and_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    _usage_and_error(capsys, argv[0])


def test_evaluate_values_are_one_error_line(tmp_path, capsys):
    argv = ["evaluate", "--dataset", str(tmp_path), "--transfer", "scale", "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    assert "--transfer must be same-size with --dataset" in _error_line(capsys)


def test_generate_errors_are_one_line(tmp_path, capsys):
    config = _config(tmp_path, "scenario: [unclosed\n")
    assert cli.main(["generate", "--config", config, "--root", str(tmp_path / "d")]) == 2
    _error_line(capsys)
    assert cli.main(["generate", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in _error_line(capsys)
    assert not (tmp_path / "d").exists()


def test_an_unknown_command_gives_usage_and_error(capsys):
    assert cli.main(["frobnicate"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("usage: pyg-aggnn")
    assert lines[1].startswith("error: command must be one of") and "'frobnicate'" in lines[1]


def test_helpers():
    assert split_debug(["fit", "--debug", "--x", "1"]) == (True, ["fit", "--x", "1"])
    assert split_debug(["fit"]) == (False, ["fit"])
    assert one_line("a:\n  b\n\nc") == "a: b c"
    assert exit_status(ValueError()) == 2 and exit_status(FileNotFoundError()) == 2
    assert exit_status(DatasetError()) == 1
    assert exit_status(RuntimeError()) is None and exit_status(KeyError()) is None
