"""The manifest of a generated dataset: which shards exist, their sizes and hashes.

``manifest.json`` holds::

    {"schema_version": 1, "config_sha256": <sha256 of config.json>, "complete": bool,
     "generator": {"pyg_aggnn": version, "torch": version},
     "splits": {<split>: {"count": n, "shards": [
         {"file": "<split>/shard-00000.pt", "start": 0, "stop": 256,
          "sha256": <hex>, "bytes": <size>}, ...]}}}

Shards are listed in sample order; ``complete`` becomes true once every shard is
recorded. A part of ``pyg-aggnn generate --part I/N`` records its shards in
``manifest.part-I-of-N.json`` (same layout, never complete); the run without ``--part``
merges those into ``manifest.json`` and removes them. Nothing in it depends on timing or on the number of workers, so an interrupted
and resumed run ends with the same bytes as an uninterrupted one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pyg_aggnn.data.generation_config import SCHEMA_VERSION, GenerationConfig
from pyg_aggnn.data.storage import MANIFEST_FILE, DatasetError, read_json, sha256_hex

__all__ = [
    "PART_MANIFESTS",
    "generator_versions",
    "new_manifest",
    "load_manifest",
    "part_manifest_file",
    "record_shard",
    "read_shard",
]


def generator_versions() -> dict[str, str]:
    """Versions of the code that produces the bytes (recorded, not hashed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("pyg_aggnn")
    except PackageNotFoundError:
        package = "unknown"
    return {"pyg_aggnn": package, "torch": torch.__version__}


def new_manifest(config: GenerationConfig) -> dict[str, Any]:
    """An empty, incomplete manifest for ``config``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "config_sha256": config.hash,
        "complete": False,
        "generator": generator_versions(),
        "splits": {name: {"count": s.count, "shards": []} for name, s in config.splits.items()},
    }


def load_manifest(
    directory: Path, config: GenerationConfig, file: str = MANIFEST_FILE
) -> dict[str, Any]:
    """The manifest in ``directory`` (a new one if there is none), checked against ``config``.

    Args:
        directory: the dataset directory.
        config: the config the dataset must belong to.
        file: the manifest's file name (default: ``manifest.json``; a part of
            ``pyg-aggnn generate --part`` keeps its own, see :func:`part_manifest_file`).

    Raises:
        DatasetError: the manifest cannot be read, lacks an entry it must have, or
            belongs to another config.
    """
    path = Path(directory) / file
    if not path.exists():
        return new_manifest(config)
    manifest = read_json(path)
    recorded = manifest.get("config_sha256") if isinstance(manifest, dict) else None
    if recorded != config.hash:
        raise DatasetError(
            f"{path} belongs to another config (config_sha256 {recorded!r}, expected "
            f"{config.hash}); delete the directory to regenerate it"
        )
    problem = _structure_problem(manifest, config)
    if problem is not None:
        raise DatasetError(f"{path} is damaged: {problem}")
    return manifest


#: The manifests of the parts of a dataset (a glob pattern).
PART_MANIFESTS = "manifest.part-*-of-*.json"


def part_manifest_file(index: int, count: int) -> str:
    """The manifest of part ``index`` of ``count`` (``pyg-aggnn generate --part I/N``)."""
    return f"manifest.part-{index}-of-{count}.json"


_ENTRY_TYPES = {"file": str, "start": int, "stop": int, "sha256": str, "bytes": int}


def _structure_problem(manifest: dict[str, Any], config: GenerationConfig) -> str | None:
    """What a parsed manifest lacks (``None`` if nothing): the code indexes all of it."""
    if not isinstance(manifest.get("complete"), bool):
        return "'complete' must be true or false"
    if not isinstance(manifest.get("generator"), dict):
        return "'generator' must be a mapping"
    splits = manifest.get("splits")
    if not isinstance(splits, dict) or set(splits) != set(config.splits):
        return f"'splits' must list exactly {sorted(config.splits)}"
    for split, recorded in splits.items():
        shards = recorded.get("shards") if isinstance(recorded, dict) else None
        if not isinstance(shards, list):
            return f"split {split!r} has no list of shards"
        for entry in shards:
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), t) for k, t in _ENTRY_TYPES.items()
            ):
                return f"a shard entry of split {split!r} lacks one of {sorted(_ENTRY_TYPES)}"
    return None


def record_shard(manifest: dict[str, Any], split: str, entry: dict[str, Any]) -> None:
    """Add (or replace) a shard entry, keeping the list in sample order."""
    shards = [e for e in manifest["splits"][split]["shards"] if e["file"] != entry["file"]]
    manifest["splits"][split]["shards"] = sorted([*shards, entry], key=lambda e: e["start"])


def read_shard(directory: Path, entry: dict[str, Any], check_hash: bool = True) -> bytes | str:
    """The bytes of a recorded shard, or a description of what is wrong with it.

    Args:
        directory: the dataset directory.
        entry: the shard's manifest entry.
        check_hash: compare the SHA-256 too, not only the size (default: ``True``).
    """
    try:
        data = (Path(directory) / entry["file"]).read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if len(data) != entry["bytes"]:
        return f"truncated or resized ({len(data)} bytes, manifest: {entry['bytes']})"
    if check_hash and sha256_hex(data) != entry["sha256"]:
        return "altered (sha256 differs from the manifest)"
    return data
