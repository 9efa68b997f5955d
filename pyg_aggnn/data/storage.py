"""On-disk format of generated datasets: shards, manifest, atomic writes, locking.

A dataset directory holds::

    config.json            canonical generation config (see GenerationConfig.to_dict)
    manifest.json          shards with sha256, size and sample range; "complete" flag
    <split>/shard-00000.pt torch.save of a list of WirelessEpisode (weights_only loadable)

Every file is written to a temporary name in the same directory, flushed to disk and
then renamed over its final name (``os.replace`` is atomic on POSIX), so a reader or a
killed writer only ever sees complete files. Derived fields (``edge_weight``, the
thresholded graph shift operator) are not stored; :func:`complete_episode` recomputes
them with the same code that built them, bit for bit.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import io
import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import torch

from pyg_aggnn.data.episode import WirelessEpisode

__all__ = [
    "DatasetError",
    "DirectoryLock",
    "serialize_episodes",
    "deserialize_episodes",
    "complete_episode",
    "atomic_write",
    "write_json",
    "read_json",
    "sha256_hex",
    "remove_temporary_files",
    "create_directory",
    "remove_empty_directories",
    "shard_file",
    "CONFIG_FILE",
    "MANIFEST_FILE",
]

CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"
DERIVED_FIELDS = ("edge_weight",)
_TMP_MARK = ".tmp-"


class DatasetError(RuntimeError):
    """A dataset on disk is missing, incomplete, corrupt or from another config."""


def shard_file(split: str, shard: int) -> str:
    """Path of shard number ``shard`` of ``split``, relative to the dataset directory."""
    return f"{split}/shard-{shard:05d}.pt"


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    # torch.save writes whole storages: never let a view drag a larger buffer along.
    whole = tensor.untyped_storage().nbytes()
    if tensor.is_contiguous() and whole == tensor.numel() * tensor.element_size():
        return tensor
    return tensor.clone(memory_format=torch.contiguous_format)


def serialize_episodes(episodes: Sequence[WirelessEpisode]) -> bytes:
    """``torch.save`` bytes of ``episodes`` without derived fields (deterministic).

    Saving to a buffer keeps the archive's internal record names independent of the file
    name, so equal episodes always give equal bytes. Tensors shared between episodes
    (a fixed network's ``edge_index``) are stored once.
    """
    stored = []
    for episode in episodes:
        if not isinstance(episode, WirelessEpisode):
            raise ValueError(f"episodes must be WirelessEpisode, got {type(episode).__name__}")
        out = copy.copy(episode)
        for key in DERIVED_FIELDS:
            if key in out:
                del out[key]
        for key, value in out.items():
            if isinstance(value, torch.Tensor) and _compact(value) is not value:
                out[key] = _compact(value)
        stored.append(out)
    buffer = io.BytesIO()
    torch.save(stored, buffer)
    return buffer.getvalue()


def deserialize_episodes(data: bytes, name: str = "shard") -> list[WirelessEpisode]:
    """Inverse of :func:`serialize_episodes`, loading with ``weights_only=True``.

    The returned episodes lack the derived fields; see :func:`complete_episode`.
    """
    try:
        episodes = torch.load(io.BytesIO(data), weights_only=True)
    except Exception as error:  # zip, pickle or unsafe-global errors all mean "corrupt"
        raise DatasetError(f"{name} cannot be loaded: {type(error).__name__}: {error}") from None
    if not isinstance(episodes, list) or not all(isinstance(e, WirelessEpisode) for e in episodes):
        raise DatasetError(f"{name} does not hold a list of WirelessEpisode")
    return episodes


def complete_episode(stored: WirelessEpisode) -> WirelessEpisode:
    """A shallow copy of a stored episode with its derived fields recomputed."""
    episode = copy.copy(stored)
    episode.edge_weight = episode.shift_weights()
    return episode


def atomic_write(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    On any error (including a full disk) the temporary file is removed and the previous
    content of ``path``, if any, is left untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any, fsync: bool = True) -> None:
    """Atomically write ``value`` as indented JSON with sorted keys (deterministic)."""
    text = json.dumps(value, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False)
    atomic_write(path, (text + "\n").encode("ascii"), fsync=fsync)


def read_json(path: Path) -> Any:
    """Parse a JSON file, raising :class:`DatasetError` naming it if it is unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist") from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path} cannot be read: {error}") from None


def remove_temporary_files(directory: Path, targets: Collection[str] | None = None) -> list[Path]:
    """Delete temporary files left by killed writers under ``directory``.

    Args:
        directory: where to look (recursively).
        targets: only the temporary files of these files (paths relative to
            ``directory``); default: every temporary file.
    """
    removed = []
    for tmp in sorted(Path(directory).rglob(f".*{_TMP_MARK}*")):
        target = str(tmp.relative_to(directory).with_name(tmp.name[1:].split(_TMP_MARK)[0]))
        if targets is not None and target not in targets:
            continue
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def create_directory(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; returns the ones this call created,
    outermost first (one that another process creates meanwhile is not among them), so
    that a failed run can remove exactly those.

    Raises:
        DatasetError: a directory cannot be created (nothing created is left behind).
    """
    missing, path = [], Path(directory).absolute()
    while not path.exists():
        missing.append(path)
        path = path.parent
    created: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            created.append(path)
    except OSError as error:
        remove_empty_directories(created)
        raise DatasetError(f"cannot create {directory}: {error.strerror}") from None
    return created


def remove_empty_directories(directories: Sequence[Path]) -> None:
    """Remove those of ``directories`` that are empty, innermost first (``rmdir`` never
    removes a directory that another process has put something in).
    """
    for path in reversed(directories):
        try:
            path.rmdir()
        except OSError:  # not empty, or already gone
            pass


def _same_directory(fd: int, directory: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(directory))
    except FileNotFoundError:
        return False


class DirectoryLock:
    """A non-blocking ``flock`` on a directory (or file), released when the process dies.

    Taking it fails with :class:`DatasetError` if another process holds it (any lock
    for an exclusive one, an exclusive one for a shared one), or if the directory was
    removed (by the holder) between opening and locking it.

    Args:
        directory: the directory (or existing file) to lock.
        shared: a shared lock, which other shared locks may hold at the same time (the
            parts of ``pyg-aggnn generate --part``); default: exclusive.
    """

    def __init__(self, directory: Path, shared: bool = False):
        self.directory = Path(directory)
        self.shared = shared
        self._fd: int | None = None

    def __enter__(self) -> DirectoryLock:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatasetError(
                f"{self.directory} is being written by another process; wait for it to finish"
            ) from None
        if not _same_directory(fd, self.directory):
            # the run that held the lock removed the directory before letting go of it
            os.close(fd)
            raise DatasetError(
                f"{self.directory} was removed by another process meanwhile; run again"
            )
        self._fd = fd
        return self

    def try_exclusive(self) -> bool:
        """Turn a held shared lock into an exclusive one if no other process holds one."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
