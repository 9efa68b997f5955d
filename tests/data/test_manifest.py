import hashlib
import json

import pytest

from pyg_aggnn.data import DatasetError, GenerationConfig
from pyg_aggnn.data.manifest import load_manifest, new_manifest, read_shard, record_shard


def _config(seed=0):
    return GenerationConfig(
        scenario={"class_path": "AdHoc", "init_args": {"num_links": 4}},
        splits={"train": 5, "val": 2},
        seed=seed,
    )


def test_new_manifest_and_ordered_records():
    config = _config()
    manifest = new_manifest(config)
    assert manifest["config_sha256"] == config.hash and manifest["complete"] is False
    assert manifest["splits"] == {
        "train": {"count": 5, "shards": []},
        "val": {"count": 2, "shards": []},
    }
    for start in (4, 0, 2):
        record_shard(manifest, "train", {"file": f"train/{start}", "start": start, "sha256": "a"})
    record_shard(manifest, "train", {"file": "train/2", "start": 2, "sha256": "b"})  # replaced
    shards = manifest["splits"]["train"]["shards"]
    assert [e["start"] for e in shards] == [0, 2, 4] and shards[1]["sha256"] == "b"


def test_load_manifest_checks_the_config(tmp_path):
    assert load_manifest(tmp_path, _config())["complete"] is False  # none yet
    (tmp_path / "manifest.json").write_text(json.dumps(new_manifest(_config(seed=1))))
    with pytest.raises(DatasetError, match="belongs to another config"):
        load_manifest(tmp_path, _config())
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="cannot be read"):
        load_manifest(tmp_path, _config())


def test_read_shard_reports_what_is_wrong(tmp_path):
    (tmp_path / "s.pt").write_bytes(b"abcdef")
    entry = {"file": "s.pt", "bytes": 6, "sha256": hashlib.sha256(b"abcdef").hexdigest()}
    assert read_shard(tmp_path, entry) == b"abcdef"
    assert read_shard(tmp_path, {**entry, "bytes": 7}).startswith("truncated or resized (6 bytes")
    assert read_shard(tmp_path, {**entry, "sha256": "0" * 64}).startswith("altered")
    assert read_shard(tmp_path, {**entry, "sha256": "0" * 64}, check_hash=False) == b"abcdef"
    assert read_shard(tmp_path, {**entry, "file": "gone.pt"}) == "missing"
