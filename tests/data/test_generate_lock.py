"""``generate`` under concurrency and damage: the lock comes before any change, a failed
run removes only what it created, and ``--repair`` rebuilds a damaged manifest.
"""

import fcntl
import json
import os
import shutil
from pathlib import Path

import pytest

from pyg_aggnn import cli
from pyg_aggnn.data import DatasetError, GenerationConfig, generate_dataset
from pyg_aggnn.data import generate as generate_module
from pyg_aggnn.data.storage import DirectoryLock

TINY = Path(__file__).resolve().parents[2] / "configs" / "data" / "tiny.yaml"
CONFIG = GenerationConfig.from_file(TINY)


def _generate(root, **kwargs):
    kwargs.setdefault("progress", False)
    return generate_dataset(CONFIG, root, "tiny", **kwargs)


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = _generate(tmp_path_factory.mktemp("reference"))
    return path, _tree(path)


@pytest.fixture
def winner():
    """Another run that takes the dataset directory and holds its lock: it has written
    only a marker so far (no shard), so a loser that cleans up would remove it all.
    """
    locks = []

    def start(directory: Path) -> None:
        os.makedirs(directory, exist_ok=True)
        (directory / "winner.txt").write_text("in progress")
        lock = DirectoryLock(directory)
        lock.__enter__()
        locks.append(lock)

    yield start
    for lock in locks:
        lock.__exit__(None, None, None)


def _assert_untouched(directory: Path) -> None:
    assert sorted(p.name for p in directory.iterdir()) == ["winner.txt"]


@pytest.mark.parametrize("root_exists", [True, False])
def test_the_loser_of_the_race_removes_nothing(tmp_path, winner, monkeypatch, root_exists):
    # the winner appears after the loser planned (disk space) and before it creates
    root = tmp_path / "datasets"
    if root_exists:
        root.mkdir()
    directory = root / CONFIG.directory_name("tiny")
    real_disk_usage = shutil.disk_usage

    def winner_appears(path):
        winner(directory)
        return real_disk_usage(path)

    monkeypatch.setattr(generate_module.shutil, "disk_usage", winner_appears)
    with pytest.raises(DatasetError, match="being written by another process"):
        _generate(root)
    _assert_untouched(directory)


def test_a_directory_created_between_look_and_mkdir_is_not_ours(tmp_path, winner, monkeypatch):
    directory = tmp_path / CONFIG.directory_name("tiny")
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self == directory.absolute() and not directory.exists():
            winner(directory)  # the other run is faster at the last moment
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(DatasetError, match="being written by another process"):
        _generate(tmp_path)
    _assert_untouched(directory)


def test_a_directory_we_created_is_not_removed_without_its_lock(tmp_path, winner, monkeypatch):
    # this run creates the directory, then the other run locks it first
    directory = tmp_path / "new" / CONFIG.directory_name("tiny")

    class SlowLock(DirectoryLock):
        def __enter__(self):
            winner(self.directory)
            return super().__enter__()

    monkeypatch.setattr(generate_module, "DirectoryLock", SlowLock)
    with pytest.raises(DatasetError, match="being written by another process"):
        _generate(tmp_path / "new")
    _assert_untouched(directory)


def test_a_lock_on_a_directory_removed_meanwhile_is_refused(tmp_path, monkeypatch):
    directory = tmp_path / "dataset"
    directory.mkdir()
    flock = fcntl.flock

    def removed_then_locked(fd, operation):
        directory.rmdir()  # the holder removed it just before letting go
        directory.mkdir()  # and a new run made a new one
        return flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", removed_then_locked)
    with pytest.raises(DatasetError, match="removed by another process"):
        with DirectoryLock(directory):
            pass


def test_a_failed_run_removes_what_it_created_and_nothing_else(tmp_path, monkeypatch):
    root = tmp_path / "datasets"
    other = root / "other-dataset"
    other.mkdir(parents=True)

    def fails(*args):
        raise DatasetError("simulated failure")

    monkeypatch.setattr(generate_module, "_generate_locked", fails)
    with pytest.raises(DatasetError, match="simulated"):
        _generate(root)
    assert sorted(p.name for p in root.iterdir()) == ["other-dataset"]
    with pytest.raises(DatasetError, match="simulated"):
        _generate(tmp_path / "new" / "root")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datasets"]


# ---------------------------------------------------------------------- manifest repair
def _copy(reference, tmp_path) -> Path:
    shutil.copytree(reference[0], tmp_path / reference[0].name)
    return tmp_path / reference[0].name


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate_manifest(path: Path) -> None:
    manifest = path / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:100])


def test_a_truncated_manifest_is_reported_then_rebuilt(tmp_path, reference, capsys):
    path = _copy(reference, tmp_path)
    _truncate_manifest(path)
    argv = ["generate", "--config", str(TINY), "--root", str(tmp_path), "--name", "tiny"]
    assert cli.main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "manifest.json cannot be read" in err and "--repair" in err
    assert cli.main([*argv, "--repair"]) == 0
    assert "rebuilding manifest.json from the shards" in capsys.readouterr().err
    assert _tree(path) == reference[1]


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("splits"),
        lambda m: m["splits"]["train"]["shards"][0].pop("sha256"),
        lambda m: m.update(config_sha256="0" * 64),
    ],
    ids=["no-splits", "entry-without-hash", "other-hash"],
)
def test_a_manifest_with_missing_entries_is_rebuilt(tmp_path, reference, damage):
    path = _copy(reference, tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    damage(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="--repair rebuilds it"):
        _generate(tmp_path)
    _generate(tmp_path, repair=True)
    assert _tree(path) == reference[1]


def test_rebuilding_keeps_matching_shards_and_regenerates_the_others(tmp_path, reference):
    path = _copy(reference, tmp_path)
    _truncate_manifest(path)
    altered, missing = path / "train" / "shard-00001.pt", path / "val" / "shard-00000.pt"
    _flip_a_byte(altered)
    missing.unlink()
    kept = path / "test" / "shard-00000.pt"
    before = kept.stat().st_mtime_ns
    _generate(tmp_path, repair=True)
    assert _tree(path) == reference[1]
    assert kept.stat().st_mtime_ns == before  # matching shards are recorded, not rewritten


def test_rebuilding_refuses_shards_that_none_match(tmp_path, reference):
    path = _copy(reference, tmp_path)
    _truncate_manifest(path)
    shards = sorted(path.glob("*/shard-*.pt"))
    for shard in shards:  # as if made by other code
        _flip_a_byte(shard)
    before = {p: p.read_bytes() for p in shards}
    with pytest.raises(DatasetError, match="none of the .* cannot be rebuilt"):
        _generate(tmp_path, repair=True)
    assert {p: p.read_bytes() for p in shards} == before
