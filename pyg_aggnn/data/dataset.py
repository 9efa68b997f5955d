"""``WirelessDataset``: a generated dataset on disk as a PyG dataset."""

from __future__ import annotations

import bisect
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch_geometric.data import Dataset

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.data.config import SHORT_HASH_LENGTH, canonical_json, config_hash
from pyg_aggnn.data.episode import WirelessEpisode
from pyg_aggnn.data.generation_config import SCHEMA_VERSION, GenerationConfig
from pyg_aggnn.data.manifest import read_shard
from pyg_aggnn.data.storage import (
    CONFIG_FILE,
    MANIFEST_FILE,
    DatasetError,
    complete_episode,
    deserialize_episodes,
    read_json,
)

__all__ = ["WirelessDataset"]


def _differences(have: Any, want: Any, prefix: str = "") -> list[str]:
    if isinstance(have, Mapping) and isinstance(want, Mapping):
        out = []
        for key in sorted(set(have) | set(want), key=str):
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in have:
                out.append(f"{where}: only in the expected config ({_brief(want[key])})")
            elif key not in want:
                out.append(f"{where}: only in the files ({_brief(have[key])})")
            else:
                out += _differences(have[key], want[key], where)
        return out
    if have != want or type(have) is not type(want):
        return [f"{prefix}: files have {have!r}, expected {want!r}"]
    return []


def _brief(value: Any) -> str:
    return "{...}" if isinstance(value, Mapping) else repr(value)


class WirelessDataset(Dataset):
    r"""One split of a dataset written by ``pyg-aggnn generate``.

    Episodes are read shard by shard on demand with ``torch.load(weights_only=True)``
    and kept in an LRU cache of at most ``cache_bytes`` (at least one shard), so a
    dataset far larger than the memory can be used; a split that fits in the cache is
    read from disk once, whatever the access order. Every shard is checked against the
    manifest (size and SHA-256) when it is read; :meth:`verify` checks all of them.

    The directory must be complete and consistent: its ``config.json`` must hash to the
    manifest's ``config_sha256`` and to the directory's ``-<hash>`` suffix, and, if
    ``expected_config`` is given, equal it; otherwise a :class:`ValueError` lists what
    differs. Sample ``k`` equals ``GenerationConfig.episode(split, k)`` exactly (see
    :meth:`generation_config`).

    To shuffle a split larger than the cache use
    :class:`~pyg_aggnn.data.ShardShuffleSampler`: fully random access would then read
    a whole shard for almost every sample (a warning says so when it happens). Each
    data-loader worker process has its own cache.

    Args:
        path: the dataset directory (``<root>/<name>-<hash>``).
        split: the split to read (default: ``"train"``).
        expected_config: the generation config the files must come from: a
            :class:`~pyg_aggnn.data.GenerationConfig`, a mapping (raw YAML or canonical)
            or the path of a YAML/JSON config (default: ``None``, no check).
        cache_bytes: memory budget of the decoded shards kept, measured by their file
            sizes (default: 1 GiB).
        check_hashes: verify each shard's SHA-256 when it is read (default: ``True``).
        transform: PyG transform applied to every returned episode (default: ``None``).
    """

    def __init__(
        self,
        path: str | Path,
        split: str = "train",
        expected_config: GenerationConfig | Mapping[str, Any] | str | Path | None = None,
        cache_bytes: int = 1 << 30,
        check_hashes: bool = True,
        transform=None,
    ):
        self.path = Path(path)
        self.cache_bytes = check_positive_int("cache_bytes", cache_bytes)
        self.check_hashes = bool(check_hashes)
        if not (self.path / CONFIG_FILE).is_file():
            raise DatasetError(f"{self.path} is not a generated dataset (no {CONFIG_FILE})")
        self.config: dict[str, Any] = read_json(self.path / CONFIG_FILE)
        self.config_hash = config_hash(self.config)
        self._check_consistent()
        if expected_config is not None:
            self._check_expected(expected_config)
        self.split = check_choice("split", split, tuple(self.manifest["splits"]))
        entries = self.manifest["splits"][split]["shards"]
        self._shards = [dict(e) for e in entries]
        self._starts = [e["start"] for e in entries]
        count = self.manifest["splits"][split]["count"]
        if (
            self._starts != sorted(self._starts)
            or sum(e["stop"] - e["start"] for e in entries) != count
        ):
            raise DatasetError(f"{self.path / MANIFEST_FILE}: shards of {split!r} do not cover it")
        self._count = count
        self._cache: OrderedDict[int, list[WirelessEpisode]] = OrderedDict()
        self._accesses = self._loads = 0
        self._warned = False
        super().__init__(None, transform=transform, log=False)

    # ------------------------------------------------------------------ consistency
    def _check_consistent(self) -> None:
        manifest_path = self.path / MANIFEST_FILE
        if not manifest_path.is_file():
            raise DatasetError(
                f"{self.path} is incomplete (no {MANIFEST_FILE}): run pyg-aggnn generate again"
            )
        self.manifest: dict[str, Any] = read_json(manifest_path)
        version = self.config.get("schema_version") if isinstance(self.config, dict) else None
        if version != SCHEMA_VERSION:
            raise DatasetError(
                f"{self.path / CONFIG_FILE} has schema_version {version!r}; this code reads "
                f"{SCHEMA_VERSION}"
            )
        if self.manifest.get("config_sha256") != self.config_hash:
            raise DatasetError(
                f"{self.path}: {CONFIG_FILE} (sha256 {self.config_hash}) does not match the "
                f"manifest (config_sha256 {self.manifest.get('config_sha256')}); the files are "
                "stale or were edited"
            )
        suffix = self.path.resolve().name.rpartition("-")[2]
        if len(suffix) == SHORT_HASH_LENGTH and all(c in "0123456789abcdef" for c in suffix):
            if suffix != self.config_hash[:SHORT_HASH_LENGTH]:
                raise DatasetError(
                    f"{self.path}: the directory name says hash {suffix} but {CONFIG_FILE} "
                    f"hashes to {self.config_hash[:SHORT_HASH_LENGTH]}"
                )
        if not self.manifest.get("complete"):
            raise DatasetError(
                f"{self.path} is incomplete (generation was interrupted): run the same "
                "pyg-aggnn generate command again to finish it"
            )

    def _check_expected(self, expected: Any) -> None:
        if isinstance(expected, (str, Path)):
            expected = GenerationConfig.from_file(expected)
        elif not isinstance(expected, GenerationConfig):
            expected = GenerationConfig.from_dict(expected)
        want = expected.to_dict()
        if canonical_json(want) != canonical_json(self.config):
            listing = "\n  ".join(_differences(self.config, want)) or "(formatting only)"
            raise ValueError(
                f"the dataset at {self.path} was generated from another config:\n  {listing}"
            )

    def generation_config(self) -> GenerationConfig:
        """The :class:`GenerationConfig` of the files (to regenerate any sample online)."""
        return GenerationConfig.from_dict(self.config)

    # ------------------------------------------------------------------ access
    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def shard_bounds(self) -> list[tuple[int, int]]:
        """``[start, stop)`` sample range of every shard, in order."""
        return [(e["start"], e["stop"]) for e in self._shards]

    @property
    def cache_shards(self) -> int:
        """How many of the split's largest shards fit in ``cache_bytes`` (at least 1)."""
        largest = max((e["bytes"] for e in self._shards), default=1)
        return max(1, self.cache_bytes // max(largest, 1))

    @property
    def num_slots(self) -> int:
        """Slots ``T`` of every episode of the split."""
        return int(self.config["splits"][self.split]["num_slots"])

    def len(self) -> int:
        return self._count

    def get(self, idx: int) -> WirelessEpisode:
        shard = bisect.bisect_right(self._starts, idx) - 1
        return complete_episode(self._load(shard)[idx - self._starts[shard]])

    def _load(self, shard: int) -> list[WirelessEpisode]:
        self._accesses += 1
        if shard in self._cache:
            self._cache.move_to_end(shard)
            return self._cache[shard]
        self._loads += 1
        self._warn_if_thrashing()
        entry = self._shards[shard]
        data = read_shard(self.path, entry, self.check_hashes)
        if isinstance(data, str):
            raise DatasetError(
                f"shard {entry['file']} of {self.path} is {data}: run pyg-aggnn generate "
                "--repair with the dataset's config"
            )
        episodes = deserialize_episodes(data, entry["file"])
        if len(episodes) != entry["stop"] - entry["start"]:
            raise DatasetError(f"shard {entry['file']} holds {len(episodes)} episodes")
        self._cache[shard] = episodes
        cached = sum(self._shards[k]["bytes"] for k in self._cache)
        while len(self._cache) > 1 and cached > self.cache_bytes:
            cached -= self._shards[self._cache.popitem(last=False)[0]]["bytes"]
        return episodes

    def _warn_if_thrashing(self) -> None:
        per_shard = self._count / max(self.num_shards, 1)
        if self._warned or self._accesses < 100 or per_shard < 4:
            return
        if self._loads > self._accesses / 2:
            self._warned = True
            warnings.warn(
                f"{self!r} re-reads a shard for most samples: the access order is random "
                f"over more shards than the cache holds ({self.cache_shards}); use "
                "ShardShuffleSampler or a larger cache_bytes",
                stacklevel=3,
            )

    def verify(self) -> list[str]:
        """Check every shard of every split against the manifest.

        Returns:
            One line per bad shard, naming it and the problem (empty: all good).
        """
        problems = []
        for split in sorted(self.manifest["splits"]):
            for entry in self.manifest["splits"][split]["shards"]:
                result = read_shard(self.path, entry)
                if isinstance(result, str):
                    problems.append(f"{entry['file']}: {result}")
        return problems

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # DataLoader workers start with their own cache
        return state

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.path.name!r}, split={self.split!r}, "
            f"len={len(self)}, shards={self.num_shards})"
        )
