"""No code runs from a checkpoint, through any loader of the package, and a damaged or
foreign file gives one error naming it.
"""

import io
import os
import pickle
import sys

import pytest
import torch

from lightning_modules.checkpoints import load_module
from lightning_modules.cli import AggGNNCLI
from pyg_aggnn.cli import main as pyg_aggnn
from pyg_aggnn.evaluation import CheckpointError, read_checkpoint
from pyg_aggnn.evaluation.checkpoints import (
    POLICY_KEY,
    load_policy,
    save_module,
    training_scenario,
)


class Evil:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(autouse=True)
def _command_line(monkeypatch):
    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])


@pytest.fixture(params=["bare", "real"])
def evil_checkpoint(request, tmp_path, tiny_run):
    """A checkpoint whose unpickling would create ``PWNED``: a bare dict, or a real
    checkpoint of the package with the payload added.
    """
    marker = tmp_path / "PWNED"
    if request.param == "bare":
        checkpoint = {"state_dict": {}}
    else:
        checkpoint = torch.load(tiny_run.checkpoint, weights_only=True)
    checkpoint["payload"] = Evil(marker)
    path = tmp_path / "evil.ckpt"
    torch.save(checkpoint, path)
    return path, marker


def _assert_refused(message, path):
    assert str(path) in message and "posix.system" in message and "refused" in message


def test_the_payload_is_real(evil_checkpoint):
    """The control: loading it the unsafe way does run the command."""
    path, marker = evil_checkpoint
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("loader", [read_checkpoint, load_module, load_policy, training_scenario])
def test_python_loaders_refuse_it(evil_checkpoint, loader):
    path, marker = evil_checkpoint
    with pytest.raises(CheckpointError) as error:
        loader(path)
    _assert_refused(str(error.value), path)
    assert not marker.exists()


def test_evaluate_refuses_it_in_one_line(evil_checkpoint, capsys):
    path, marker = evil_checkpoint
    assert pyg_aggnn(["evaluate", str(path), "--out", str(path.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    _assert_refused(err, path)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["fit", "validate", "test"])
def test_the_training_cli_refuses_it_as_ckpt_path(evil_checkpoint, command, capsys):
    path, marker = evil_checkpoint
    root = path.parent / "out"
    argv = [command, "--ckpt_path", str(path), "--trainer.default_root_dir", str(root)]
    assert pyg_aggnn(argv) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err
    _assert_refused(err, path)
    assert not marker.exists()


def test_class_paths_into_modules_not_imported_are_refused(tmp_path, tiny_run, monkeypatch):
    marker = tmp_path / "IMPORTED"
    (tmp_path / "sneaky_policies.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    checkpoint = torch.load(tiny_run.checkpoint, weights_only=True)
    checkpoint[POLICY_KEY] = {"class_path": "sneaky_policies.Policy", "init_args": {}}
    torch.save(checkpoint, tmp_path / "sneaky.ckpt")
    for loader in (load_module, load_policy):
        with pytest.raises(CheckpointError, match="'sneaky_policies.Policy' from the module"):
            loader(tmp_path / "sneaky.ckpt")
    assert not marker.exists() and "sneaky_policies" not in sys.modules


def test_a_fit_checkpoint_loads_with_weights_only(tiny_run):
    checkpoint = read_checkpoint(tiny_run.checkpoint)
    assert torch.load(tiny_run.checkpoint, weights_only=True).keys() == checkpoint.keys()
    assert load_module(tiny_run.checkpoint).policy.K == 3


def test_save_module_writes_only_plain_configurations(tmp_path):
    with pytest.raises(ValueError, match=r"policy_config.init_args.act .* got ReLU"):
        save_module(
            None,
            tmp_path / "x.ckpt",
            {"class_path": "AggGNN", "init_args": {"act": torch.nn.ReLU()}},
        )
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------- damaged files
def _pickled(value) -> bytes:
    return pickle.dumps(value)


def _saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


DAMAGED = {
    "empty": lambda real: b"",
    "truncated": lambda real: real[: len(real) // 2],
    "cut-short": lambda real: real[:-100],
    "random-bytes": lambda real: bytes(range(256)) * 8,
    "text": lambda real: b"model: AggGNN\n",
    "plain-pickle": lambda real: _pickled({"state_dict": {}}),
    "a-list": lambda real: _saved([torch.zeros(2)]),
    "no-state-dict": lambda real: _saved({"epoch": 3, "weights": torch.zeros(2)}),
    "state-dict-not-a-dict": lambda real: _saved({"state_dict": [1, 2]}),
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_or_foreign_files_give_the_one_error(tmp_path, tiny_run, damage, capsys):
    path = tmp_path / "model.ckpt"
    path.write_bytes(damage(tiny_run.checkpoint.read_bytes()))
    for loader in (read_checkpoint, load_module, load_policy, training_scenario):
        with pytest.raises(CheckpointError, match="is damaged or not a pyg_aggnn checkpoint"):
            loader(path)
    assert pyg_aggnn(["evaluate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: checkpoint {str(path)!r} is damaged")


def test_a_checkpoint_of_another_model_gives_the_one_error(tmp_path, tiny_run):
    checkpoint = torch.load(tiny_run.checkpoint, weights_only=True)
    checkpoint["state_dict"] = {"layer.weight": torch.zeros(2, 2)}
    torch.save(checkpoint, tmp_path / "other.ckpt")
    for loader in (load_module, load_policy):
        with pytest.raises(CheckpointError, match="damaged or not .* cannot be rebuilt"):
            loader(tmp_path / "other.ckpt")


def test_a_damaged_ckpt_path_is_named_before_lightning_reads_it(tmp_path, capsys):
    path = tmp_path / "last.ckpt"
    path.write_bytes(b"\x00" * 10)
    argv = ["validate", "--ckpt_path", str(path), "--trainer.default_root_dir", str(tmp_path)]
    with pytest.raises(CheckpointError, match="last.ckpt' is damaged"):
        AggGNNCLI(args=argv)
    assert pyg_aggnn(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: checkpoint {str(path)!r} is damaged")
