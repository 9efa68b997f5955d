import errno
import hashlib
import io
import os

import pytest
import torch

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.data.storage import (
    DatasetError,
    DirectoryLock,
    atomic_write,
    complete_episode,
    deserialize_episodes,
    remove_temporary_files,
    serialize_episodes,
    sha256_hex,
)
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def _episodes(count=3, layout=None):
    scenario = AdHoc(5, activation=RandomSubsets(lam=2))
    return [scenario.episode(4, seed=i, layout=layout) for i in range(count)]


def _assert_same(a, b):
    assert set(a.keys()) == set(b.keys())
    for key in a.keys():
        assert torch.equal(a[key], b[key]), key
        assert a[key].dtype == b[key].dtype


def test_serialization_is_byte_deterministic():
    data = serialize_episodes(_episodes())
    assert serialize_episodes(_episodes()) == data  # regenerated tensors, same bytes
    assert serialize_episodes(_episodes()[:2]) != data
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_round_trip_with_weights_only_and_recomputed_edge_weight():
    episodes = _episodes()
    data = serialize_episodes(episodes)
    stored = torch.load(io.BytesIO(data), weights_only=True)  # plain torch, no extra code
    assert all(isinstance(e, WirelessEpisode) and "edge_weight" not in e for e in stored)
    for original, loaded in zip(episodes, deserialize_episodes(data)):
        _assert_same(complete_episode(loaded), original)
    assert all("edge_weight" in e for e in episodes)  # the caller's episodes are untouched


def test_views_do_not_drag_their_base_storage_along():
    episode = _episodes(1)[0]
    plain = len(serialize_episodes([episode]))
    big = torch.zeros(1000, *episode.link_weight.shape)
    big[7] = episode.link_weight
    episode.link_weight = big[7]  # a view into 1000x more memory
    assert len(serialize_episodes([episode])) == plain


def test_shared_layout_tensors_are_stored_once():
    layout = AdHoc(5).sample_layout(torch.Generator().manual_seed(0))
    shared = serialize_episodes(_episodes(4, layout))
    copies = []
    for episode in _episodes(4, layout):
        episode.edge_index = episode.edge_index.clone()
        episode.receiver = episode.receiver.clone()
        copies.append(episode)
    assert len(shared) < len(serialize_episodes(copies))
    loaded = deserialize_episodes(shared)
    assert all(torch.equal(e.edge_index, loaded[0].edge_index) for e in loaded)


def test_garbage_and_foreign_content_are_dataset_errors():
    with pytest.raises(DatasetError, match="bad.pt cannot be loaded"):
        deserialize_episodes(b"not a zip file", "bad.pt")
    data = serialize_episodes(_episodes(1))
    with pytest.raises(DatasetError, match="cannot be loaded"):
        deserialize_episodes(data[: len(data) // 2], "half.pt")
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)
    with pytest.raises(DatasetError, match="does not hold a list of WirelessEpisode"):
        deserialize_episodes(buffer.getvalue())


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (str(self.marker), "w"))


def test_pickled_code_is_refused_not_run(tmp_path):
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save([_Payload(marker)], buffer)
    torch.load(io.BytesIO(buffer.getvalue()), weights_only=False).pop().close()
    assert marker.exists()  # the payload works when code is allowed to run
    marker.unlink()
    with pytest.raises(DatasetError, match="cannot be loaded"):
        deserialize_episodes(buffer.getvalue())
    assert not marker.exists()


def test_atomic_write_replaces_or_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "file.bin"
    atomic_write(path, b"old")
    atomic_write(path, b"new", fsync=False)
    assert path.read_bytes() == b"new"

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        atomic_write(path, b"half-written")
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_remove_temporary_files(tmp_path):
    (tmp_path / "train").mkdir()
    leftover = tmp_path / "train" / ".shard-00000.pt.tmp-123"
    leftover.write_bytes(b"partial")
    keep = tmp_path / "train" / "shard-00000.pt"
    keep.write_bytes(b"complete")
    assert remove_temporary_files(tmp_path) == [leftover]
    assert not leftover.exists() and keep.exists()


def test_directory_lock_is_exclusive(tmp_path):
    with DirectoryLock(tmp_path):
        with pytest.raises(DatasetError, match="being written by another process"):
            with DirectoryLock(tmp_path):
                pass
    with DirectoryLock(tmp_path):  # released
        pass
