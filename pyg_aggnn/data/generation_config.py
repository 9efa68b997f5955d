"""``GenerationConfig``: everything that determines the bytes of a generated dataset."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.data.config import (
    config_hash,
    resolve_class,
    scenario_from_config,
    scenario_to_config,
    short_hash,
)
from pyg_aggnn.data.seeding import Stream, derive_seed, keyed_episode, split_stream
from pyg_aggnn.wireless.scenario import Layout, Scenario

__all__ = ["GenerationConfig", "SplitConfig", "SCHEMA_VERSION", "derive_seed", "split_stream"]

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TOP_KEYS = ("schema_version", "seed", "num_slots", "dtype", "network", "shard_size")
_SPLIT_KEYS = ("count", "network", "num_slots", "shard_size", "scenario")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_NETWORKS = ("random", "fixed")


@dataclass(frozen=True)
class SplitConfig:
    """One split: ``count`` episodes of ``num_slots`` slots of ``scenario``.

    Attributes:
        count: number of episodes.
        network: ``"random"`` (a new layout per episode) or ``"fixed"`` (the dataset's
            one layout, drawn from the seed, for every episode).
        num_slots: slots ``T`` per episode.
        shard_size: episodes per shard file.
        scenario: resolved ``{"class_path", "init_args"}`` of the split's scenario.
    """

    count: int
    network: str
    num_slots: int
    shard_size: int
    scenario: dict[str, Any]

    @property
    def num_shards(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_bounds(self, shard: int) -> tuple[int, int]:
        """Sample range ``[start, stop)`` of shard number ``shard``."""
        start = shard * self.shard_size
        return start, min(start + self.shard_size, self.count)


def _merge_scenario(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay ``override`` on ``base`` (both ``class_path`` / ``init_args`` mappings).

    A different ``class_path`` replaces the base; otherwise ``init_args`` merge key by key,
    recursively for nested objects of the same class.
    """
    path = override.get("class_path")
    if path is not None and not _same_class(path, base.get("class_path")):
        return copy.deepcopy(dict(override))
    merged = copy.deepcopy(dict(base.get("init_args") or {}))
    for key, value in (override.get("init_args") or {}).items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping) and "class_path" in old:
            merged[key] = _merge_scenario(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return {"class_path": base.get("class_path"), "init_args": merged}


def _same_class(path: object, other: object) -> bool:
    if path == other:
        return True
    try:
        return resolve_class(path, (object,), "") is resolve_class(other, (object,), "")
    except ValueError:
        return False


class GenerationConfig:
    """The generation config of a dataset (the YAML under ``configs/data/``).

    Per-sample random streams derive from ``seed`` alone: episode ``k`` of split ``s`` is
    ``scenario.episode(num_slots, seed=derive_seed(seed, split_stream(s), k))``, with the
    layout drawn from ``derive_seed(seed, 3)`` for a fixed network. So the data do not
    depend on how the work is spread over workers, :meth:`episode` reproduces any stored
    sample on its own, and the ``train``, ``val`` and ``test`` splits hold exactly the
    episodes that the online stream of the training module draws for the same seed,
    scenario, slots and network.

    Args:
        scenario: the base scenario, ``{"class_path", "init_args"}`` or a
            :class:`~pyg_aggnn.wireless.Scenario`.
        splits: split name -> count, or a mapping with ``count`` and optional
            ``network``, ``num_slots``, ``shard_size`` and ``scenario`` (overrides merged
            into the base scenario as written, e.g. ``{"init_args": {"delta": 0.1}}``, so
            defaults such as ``p_max_total = num_links`` follow an overridden size; a
            :class:`~pyg_aggnn.wireless.Scenario` base is merged as resolved).
        seed: root seed (default: ``0``).
        num_slots: slots per episode (default: ``10``).
        dtype: ``"float32"`` or ``"float64"`` (default: ``"float32"``).
        network: ``"random"`` or ``"fixed"`` (default: ``"random"``).
        shard_size: episodes per shard file (default: ``256``).
    """

    def __init__(
        self,
        scenario: Mapping[str, Any] | Scenario,
        splits: Mapping[str, Any],
        seed: int = 0,
        num_slots: int = 10,
        dtype: str = "float32",
        network: str = "random",
        shard_size: int = 256,
    ):
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.num_slots = check_positive_int("num_slots", num_slots)
        self.dtype = check_choice("dtype", dtype, tuple(_DTYPES))
        self.network = check_choice("network", network, _NETWORKS)
        self.shard_size = check_positive_int("shard_size", shard_size)
        base = scenario_to_config(scenario) if isinstance(scenario, Scenario) else scenario
        if not isinstance(base, Mapping):
            raise ValueError(f"scenario must be a mapping with class_path, got {base!r}")
        self.scenario = scenario_to_config(scenario_from_config(base))
        if not isinstance(splits, Mapping) or not splits:
            raise ValueError(f"splits must be a non-empty mapping of name -> count, got {splits!r}")
        self.splits: dict[str, SplitConfig] = {}
        self._scenarios: dict[str, Scenario] = {}
        self._layouts: dict[str, Layout] = {}
        for name, spec in splits.items():
            self.splits[name] = self._split(name, spec, base)

    def _split(self, name: object, spec: Any, base: Mapping[str, Any]) -> SplitConfig:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"split names must match {_NAME.pattern} (used as directory names), got {name!r}"
            )
        where = f"splits.{name}"
        if not isinstance(spec, Mapping):
            spec = {"count": spec}
        unknown = sorted(set(spec) - set(_SPLIT_KEYS))
        if unknown:
            raise ValueError(f"{where} has unknown keys {unknown}; allowed: {list(_SPLIT_KEYS)}")
        override = spec.get("scenario") or {}
        if not isinstance(override, Mapping):
            raise ValueError(f"{where}.scenario must be a mapping, got {override!r}")
        try:
            scenario = scenario_from_config(_merge_scenario(base, override))
            split = SplitConfig(
                count=check_positive_int("count", spec.get("count")),
                network=check_choice("network", spec.get("network", self.network), _NETWORKS),
                num_slots=check_positive_int("num_slots", spec.get("num_slots", self.num_slots)),
                shard_size=check_positive_int(
                    "shard_size", spec.get("shard_size", self.shard_size)
                ),
                scenario=scenario_to_config(scenario),
            )
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        self._scenarios[name] = scenario
        return split

    # ------------------------------------------------------------------ (de)serialization
    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> GenerationConfig:
        """Build from a parsed YAML/JSON mapping (raw or canonical)."""
        if not isinstance(config, Mapping):
            raise ValueError(
                f"the generation config must be a mapping, got {type(config).__name__}"
            )
        allowed = (*_TOP_KEYS, "scenario", "splits")
        unknown = sorted(set(config) - set(allowed))
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; allowed: {sorted(allowed)}")
        version = config.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(f"schema_version must be {SCHEMA_VERSION}, got {version!r}")
        for key in ("scenario", "splits"):
            if key not in config:
                raise ValueError(f"the generation config needs a {key!r} entry")
        kwargs = {k: config[k] for k in _TOP_KEYS if k in config and k != "schema_version"}
        return cls(scenario=config["scenario"], splits=config["splits"], **kwargs)

    @classmethod
    def from_file(cls, path: str | Path) -> GenerationConfig:
        """Read a YAML (or JSON) generation config."""
        import yaml

        text = Path(path).read_text()
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML: {error}") from None
        try:
            return cls.from_dict(raw)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """The canonical, fully resolved config (what ``config.json`` holds)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "seed": self.seed,
            "num_slots": self.num_slots,
            "dtype": self.dtype,
            "network": self.network,
            "shard_size": self.shard_size,
            "scenario": self.scenario,
            "splits": {
                name: {
                    "count": s.count,
                    "network": s.network,
                    "num_slots": s.num_slots,
                    "shard_size": s.shard_size,
                    "scenario": s.scenario,
                }
                for name, s in self.splits.items()
            },
        }

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON."""
        return config_hash(self.to_dict())

    @property
    def short_hash(self) -> str:
        return short_hash(self.to_dict())

    def directory_name(self, name: str) -> str:
        """``<name>-<short hash>``, the dataset's directory under the root."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"name must match {_NAME.pattern}, got {name!r}")
        return f"{name}-{self.short_hash}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GenerationConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        counts = ", ".join(f"{n}={s.count}" for n, s in self.splits.items())
        return f"GenerationConfig(hash={self.short_hash}, seed={self.seed}, splits=({counts}))"

    # ------------------------------------------------------------------ sampling
    def _check_split(self, split: str) -> SplitConfig:
        check_choice("split", split, tuple(self.splits))
        return self.splits[split]

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    def scenario_of(self, split: str) -> Scenario:
        """The scenario object of ``split``."""
        self._check_split(split)
        return self._scenarios[split]

    def layout_seed(self) -> int:
        """Seed of the fixed network's layout (shared by every ``fixed`` split)."""
        return derive_seed(self.seed, Stream.LAYOUT)

    def sample_seed(self, split: str, index: int) -> int:
        """Seed of episode ``index`` of ``split`` (independent of every other sample)."""
        spec = self._check_split(split)
        if not 0 <= index < spec.count:
            raise ValueError(f"index must be in [0, {spec.count}), got {index!r}")
        return derive_seed(self.seed, split_stream(split), index)

    def layout(self, split: str) -> Layout | None:
        """The fixed layout of ``split`` (``None`` for random networks)."""
        if self._check_split(split).network != "fixed":
            return None
        if split not in self._layouts:
            generator = torch.Generator().manual_seed(self.layout_seed())
            self._layouts[split] = self._scenarios[split].sample_layout(generator)
        return self._layouts[split]

    def episode(self, split: str, index: int):
        """Episode ``index`` of ``split``, exactly as the generated dataset stores it."""
        spec = self._check_split(split)
        self.sample_seed(split, index)  # checks the index
        return keyed_episode(
            self._scenarios[split],
            spec.num_slots,
            self.seed,
            split_stream(split),
            index,
            layout=self.layout(split),
            dtype=self.torch_dtype,
        )
