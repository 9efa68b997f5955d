import errno
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

from pyg_aggnn import cli
from pyg_aggnn.data import DatasetError, GenerationConfig, WirelessDataset, generate_dataset
from pyg_aggnn.data import generate as generate_module
from pyg_aggnn.data.storage import DirectoryLock

TINY = Path(__file__).resolve().parents[2] / "configs" / "data" / "tiny.yaml"


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _generate(root, **kwargs):
    kwargs.setdefault("progress", False)
    return generate_dataset(GenerationConfig.from_file(TINY), root, "tiny", **kwargs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = _generate(tmp_path_factory.mktemp("reference"))
    return path, _tree(path)


def test_layout_config_and_manifest(reference):
    path, tree = reference
    config = GenerationConfig.from_file(TINY)
    assert path.name == f"tiny-{config.short_hash}"
    # config.json is the canonical JSON itself: its sha256 is the dataset's hash
    assert hashlib.sha256(tree["config.json"]).hexdigest() == config.hash
    assert json.loads(tree["config.json"]) == config.to_dict()
    manifest = json.loads(tree["manifest.json"])
    assert manifest["complete"] is True and manifest["config_sha256"] == config.hash
    expected_files = {"config.json", "manifest.json"}
    for split, spec in config.splits.items():
        shards = manifest["splits"][split]["shards"]
        assert len(shards) == spec.num_shards
        assert sum(e["stop"] - e["start"] for e in shards) == spec.count
        for entry in shards:
            data = tree[entry["file"]]
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
            expected_files.add(entry["file"])
    assert set(tree) == expected_files  # nothing else: no temporary or duplicate shard


def test_bytes_do_not_depend_on_the_number_of_workers(tmp_path, reference):
    path = _generate(tmp_path, workers=2)
    assert _tree(path) == reference[1]


def test_running_again_verifies_and_changes_nothing(tmp_path, reference):
    shutil.copytree(reference[0], tmp_path / reference[0].name)
    stream = io.StringIO()
    path = _generate(tmp_path, progress=True, stream=stream)
    assert _tree(path) == reference[1]
    shards = sum(s.num_shards for s in GenerationConfig.from_file(TINY).splits.values())
    assert f"{shards} shard(s) verified, 0 written" in stream.getvalue()


def test_resume_after_an_interruption_is_byte_identical(tmp_path, reference, monkeypatch):
    real_write_json, calls = generate_module.write_json, []

    def dies_on_third_manifest_update(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the third shard is on disk but not yet recorded
            raise KeyboardInterrupt
        real_write_json(*args, **kwargs)

    monkeypatch.setattr(generate_module, "write_json", dies_on_third_manifest_update)
    with pytest.raises(KeyboardInterrupt):
        _generate(tmp_path)
    monkeypatch.undo()
    path = tmp_path / reference[0].name
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["complete"] is False
    with pytest.raises(DatasetError, match="incomplete"):
        WirelessDataset(path, "train")
    # what a kill -9 in the middle of writes leaves behind
    (path / "train" / ".shard-00002.pt.tmp-999").write_bytes(b"half a shard")
    (path / "val" / "shard-00000.pt").write_bytes(b"never recorded")
    _generate(tmp_path)
    assert _tree(path) == reference[1]


def test_corrupt_shards_are_named_and_repaired(tmp_path, reference, capsys):
    shutil.copytree(reference[0], tmp_path / reference[0].name)
    path = tmp_path / reference[0].name
    truncated, altered = path / "train" / "shard-00001.pt", path / "test" / "shard-00000.pt"
    truncated.write_bytes(truncated.read_bytes()[:-100])
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    assert sorted(WirelessDataset(path, "val").verify()) == [
        "test/shard-00000.pt: altered (sha256 differs from the manifest)",
        f"train/shard-00001.pt: truncated or resized ({len(reference[1]['train/shard-00001.pt']) - 100} "
        f"bytes, manifest: {len(reference[1]['train/shard-00001.pt'])})",
    ]
    argv = ["generate", "--config", str(TINY), "--root", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "train/shard-00001.pt: truncated" in err and "test/shard-00000.pt: altered" in err
    assert "--repair" in err
    assert cli.main([*argv, "--repair"]) == 0
    assert _tree(path) == reference[1]


def test_repair_refuses_bytes_that_the_manifest_does_not_record(tmp_path, reference):
    shutil.copytree(reference[0], tmp_path / reference[0].name)
    path = tmp_path / reference[0].name
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["splits"]["val"]["shards"][0]["sha256"] = "0" * 64  # as if made by other code
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="no longer reproduces"):
        _generate(tmp_path, repair=True)
    assert (path / "val" / "shard-00000.pt").read_bytes() == reference[1]["val/shard-00000.pt"]


def test_bad_config_values_exit_2_and_write_nothing(tmp_path, capsys):
    root = tmp_path / "datasets"
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("num_links: 6", "num_links: 6\n    delta: 1.5"))
    assert cli.main(["generate", "--config", str(bad), "--root", str(root)]) == 2
    assert "delta must be in [0.0, 1.0], got 1.5" in capsys.readouterr().err
    # an error that only shows when sampling (node 9 of 6) is caught before writing too
    late = tmp_path / "late.yaml"
    late.write_text(
        "scenario: {class_path: AdHoc, init_args: {num_links: 6, activation: "
        "{class_path: GivenSubsets, init_args: {subsets: [[0, 9]]}}}}\nsplits: {train: 2}\n"
    )
    assert cli.main(["generate", "--config", str(late), "--root", str(root)]) == 2
    assert "outside [0, 6)" in capsys.readouterr().err
    assert cli.main(["generate", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert cli.main(["generate", "--config", str(TINY), "--workers", "0"]) == 2
    assert not root.exists()


def test_unwritable_root_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    root = blocker / "datasets"
    assert cli.main(["generate", "--config", str(TINY), "--root", str(root)]) == 1
    assert "cannot create" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_root_is_a_clear_error(tmp_path, capsys):
    root = tmp_path / "readonly"
    root.mkdir()
    root.chmod(0o555)
    try:
        assert cli.main(["generate", "--config", str(TINY), "--root", str(root)]) == 1
        assert "Permission denied" in capsys.readouterr().err
        assert list(root.iterdir()) == []
    finally:
        root.chmod(0o755)


def test_not_enough_space_is_detected_before_writing(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        generate_module.shutil, "disk_usage", lambda path: usage(10**6, 10**6, 1000)
    )
    with pytest.raises(DatasetError, match=r"not enough disk space .* needs about 0\.2 MB"):
        _generate(tmp_path / "datasets")
    assert not (tmp_path / "datasets").exists()


def _full_disk_after(monkeypatch, calls_allowed):
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) > calls_allowed:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_disk_full_while_writing_keeps_only_complete_shards(tmp_path, reference, monkeypatch):
    _full_disk_after(monkeypatch, 7)  # config.json, two shards and a manifest, then full
    with pytest.raises(DatasetError, match="No space left on device .*run again to resume"):
        _generate(tmp_path)
    monkeypatch.undo()
    path = tmp_path / reference[0].name
    assert not [p for p in path.rglob(".*") if p.is_file()]  # no temporary file left
    for name, data in _tree(path).items():
        if name != "manifest.json":
            assert reference[1][name] == data  # whatever is there is complete and correct
    _generate(tmp_path)
    assert _tree(path) == reference[1]


def test_disk_full_at_the_first_write_leaves_nothing(tmp_path, monkeypatch):
    _full_disk_after(monkeypatch, 0)
    with pytest.raises(DatasetError, match="No space left on device"):
        _generate(tmp_path / "datasets")
    assert not (tmp_path / "datasets").exists()


def test_a_directory_of_another_config_is_refused(tmp_path, reference):
    shutil.copytree(reference[0], tmp_path / reference[0].name)
    config_json = tmp_path / reference[0].name / "config.json"
    config_json.write_text(config_json.read_text().replace('"seed":0', '"seed":1'))
    with pytest.raises(DatasetError, match="does not belong to this config"):
        _generate(tmp_path)


def test_concurrent_generation_is_refused(tmp_path):
    directory = tmp_path / GenerationConfig.from_file(TINY).directory_name("tiny")
    directory.mkdir()
    with DirectoryLock(directory):
        with pytest.raises(DatasetError, match="being written by another process"):
            _generate(tmp_path)


def test_progress_without_a_terminal_is_plain_lines(tmp_path, capsys):
    argv = ["generate", "--config", str(TINY), "--root", str(tmp_path), "--workers", "2"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / GenerationConfig.from_file(TINY).directory_name("tiny"))
    assert "generate: 40/40 episodes (100%)" in err and "\r" not in err
    assert "generate" in cli._usage()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_is_a_bar(tmp_path):
    stream = _Terminal()
    _generate(tmp_path, progress=True, stream=stream, workers=2)
    assert "40/40" in stream.getvalue() and "\r" in stream.getvalue()
    assert "generate: 40/40 episodes" not in stream.getvalue()


# ---------------------------------------------------------------------- kill -9
_KILL_CONFIG = """
seed: 5
num_slots: 6
shard_size: 10
scenario: {class_path: AdHoc, init_args: {num_links: 30}}
splits: {train: 1800, val: 200}
"""


def _generate_in_subprocess(config, root, kill_when=None, kill_after=0.0):
    """Run the command; with ``kill_when`` (a file name), SIGKILL it once that file exists."""
    command = [sys.executable, "-m", "pyg_aggnn.cli", "generate", "--config", str(config)]
    command += ["--root", str(root), "--workers", "2", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_when is None:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
        return
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if next(iter(Path(root).glob(f"*/{kill_when}")), None) is not None:
            break
        time.sleep(0.002)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)  # the parent only: its workers must die with it
    process.communicate(timeout=60)  # orphaned workers would hold the pipes open


def _assert_unlocked_soon(path, timeout=2.0):
    deadline = time.monotonic() + timeout
    while path.exists():
        try:
            with DirectoryLock(path):
                return
        except DatasetError:
            assert time.monotonic() < deadline, "workers outlived their killed parent"
            time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_is_byte_identical(tmp_path):
    config = tmp_path / "kill.yaml"
    config.write_text(_KILL_CONFIG)
    reference = generate_dataset(
        GenerationConfig.from_file(config), tmp_path / "reference", "kill", progress=False
    )
    root = tmp_path / "datasets"
    path = root / reference.name
    rng = random.Random(0)
    interrupted = 0
    kills = [("config.json", 0.0)] + [("manifest.json", rng.uniform(0.0, 0.8)) for _ in range(4)]
    for kill_when, delay in kills:
        _generate_in_subprocess(config, root, kill_when, delay)
        _assert_unlocked_soon(path)  # no orphaned worker keeps the dataset locked
        manifest_path = path / "manifest.json"
        if manifest_path.exists() and json.loads(manifest_path.read_text())["complete"]:
            break
        interrupted += 1
        if manifest_path.exists():  # every recorded shard is complete and correct, always
            for entry in json.loads(manifest_path.read_text())["splits"]["train"]["shards"]:
                assert (path / entry["file"]).read_bytes() == (
                    reference / entry["file"]
                ).read_bytes()
    assert interrupted >= 3, "the kills came too late to interrupt the generation"
    _generate_in_subprocess(config, root)
    assert _tree(path) == _tree(reference)
    assert WirelessDataset(path, "val").verify() == []


# ---------------------------------------------------------------------- --part I/N
def _shards(config):
    return [
        f"{split}/shard-{k:05d}.pt"
        for split, s in config.splits.items()
        for k in range(s.num_shards)
    ]


def test_part_shards_are_disjoint_and_cover_every_shard():
    config = GenerationConfig.from_file(TINY)
    every = _shards(config)
    for count in (1, 2, 3, len(every), len(every) + 2):
        parts = [generate_module.part_shards(config, (i, count)) for i in range(1, count + 1)]
        assert sorted(name for part in parts for name in part) == sorted(every)
        assert sum(len(part) for part in parts) == len(every)  # disjoint
        assert max(map(len, parts)) - min(map(len, parts)) <= 1  # balanced


def test_three_parts_at_once_then_a_final_run_equal_one_run(tmp_path, reference):
    """Three job-array jobs on one directory, in separate processes at the same time."""
    root = tmp_path / "datasets"
    jobs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pyg_aggnn.cli",
                "generate",
                "--config",
                str(TINY),
                "--root",
                str(root),
                "--name",
                "tiny",
                "--part",
                f"{i}/3",
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2, 3)
    ]
    for job in jobs:
        out, err = job.communicate(timeout=120)
        assert job.returncode == 0, err
    path = root / reference[0].name
    tree = _tree(path)
    config = GenerationConfig.from_file(TINY)
    assert "manifest.json" not in tree  # not a dataset yet
    for i in (1, 2, 3):
        own = generate_module.part_shards(config, (i, 3))
        recorded = json.loads(tree[f"manifest.part-{i}-of-3.json"])
        files = [e["file"] for s in recorded["splits"].values() for e in s["shards"]]
        assert sorted(files) == sorted(own) and recorded["complete"] is False
        for name in own:  # the same bytes as the same shard of a single run
            assert tree[name] == reference[1][name]
    with pytest.raises(DatasetError, match="incomplete|manifest"):
        WirelessDataset(path, "train")
    stream = io.StringIO()
    _generate(root, progress=True, stream=stream)
    assert "7 shard(s) recorded by 3 part(s)" in stream.getvalue()
    assert "7 shard(s) verified, 0 written" in stream.getvalue()
    assert _tree(path) == reference[1]  # byte-identical, the parts' files gone
    assert not list(path.glob(".part-*"))


def test_a_final_run_generates_the_parts_that_never_ran(tmp_path, reference):
    _generate(tmp_path, part=(2, 3))
    stream = io.StringIO()
    _generate(tmp_path, progress=True, stream=stream)
    assert "2 shard(s) verified, 5 written" in stream.getvalue()
    assert _tree(tmp_path / reference[0].name) == reference[1]


def test_a_damaged_shard_of_a_part_is_regenerated_by_the_final_run(tmp_path, reference):
    for i in (1, 2, 3):
        _generate(tmp_path, part=(i, 3))
    path = tmp_path / reference[0].name
    victim = path / generate_module.part_shards(GenerationConfig.from_file(TINY), (2, 3))[0]
    victim.write_bytes(victim.read_bytes()[:-10])
    stream = io.StringIO()
    _generate(tmp_path, progress=True, stream=stream)
    assert f"regenerating {victim.relative_to(path)}: truncated" in stream.getvalue()
    assert _tree(path) == reference[1]


def test_a_part_resumes_and_over_a_complete_dataset_only_verifies(tmp_path, reference):
    _generate(tmp_path, part=(1, 2))
    path = tmp_path / reference[0].name
    before = _tree(path)
    stream = io.StringIO()
    _generate(tmp_path, part=(1, 2), progress=True, stream=stream)
    assert "part 1/2: 4 shard(s) verified, 0 written" in stream.getvalue()
    assert _tree(path) == before
    shutil.rmtree(path)
    shutil.copytree(reference[0], path)
    stream = io.StringIO()
    _generate(tmp_path, part=(2, 2), progress=True, stream=stream)
    assert "part 2/2: 3 shard(s) verified, 0 written" in stream.getvalue()
    assert _tree(path) == reference[1]  # no part manifest: nothing was written


def test_parts_share_the_directory_but_not_with_a_full_run_or_their_twin(tmp_path):
    directory = tmp_path / GenerationConfig.from_file(TINY).directory_name("tiny")
    directory.mkdir()
    with DirectoryLock(directory, shared=True):  # a part at work
        with pytest.raises(DatasetError, match="being written by another process"):
            _generate(tmp_path)
        _generate(tmp_path, part=(1, 3))  # another part may run
        (directory / ".part-2-of-3.lock").touch()
        with DirectoryLock(directory / ".part-2-of-3.lock"):  # part 2 at work
            with pytest.raises(DatasetError, match="part-2-of-3.lock is being written"):
                _generate(tmp_path, part=(2, 3))
    with DirectoryLock(directory):  # a full run at work
        with pytest.raises(DatasetError, match="being written by another process"):
            _generate(tmp_path, part=(3, 3))


def test_a_part_of_another_version_is_refused_by_the_final_run(tmp_path, reference):
    _generate(tmp_path, part=(1, 2))
    path = tmp_path / reference[0].name
    manifest_path = path / "manifest.part-1-of-2.json"
    recorded = json.loads(manifest_path.read_text())
    recorded["generator"] = {"pyg_aggnn": "0.0.1", "torch": "1.0"}
    manifest_path.write_text(json.dumps(recorded))
    with pytest.raises(DatasetError, match="manifest.part-1-of-2.json was written with"):
        _generate(tmp_path)


@pytest.mark.parametrize(
    ("value", "message"),
    [("3", "must be I/N"), ("a/b", "must be I/N"), ("0/3", "1 <= I <= N"), ("4/3", "1 <= I <= N")],
)
def test_bad_part_exits_2_and_writes_nothing(tmp_path, capsys, value, message):
    argv = ["generate", "--config", str(TINY), "--root", str(tmp_path / "d"), "--part", value]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--part" in err and message in err and repr(value) in err
    assert not (tmp_path / "d").exists()


def test_part_with_repair_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"repair=True with part=\(1, 2\)"):
        _generate(tmp_path, part=(1, 2), repair=True)
    with pytest.raises(ValueError, match="part must be"):
        _generate(tmp_path, part=(3, 2))
    argv = ["generate", "--config", str(TINY), "--root", str(tmp_path), "--part", "1/2", "--repair"]
    assert cli.main(argv) == 2
    assert "--repair with --part" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
