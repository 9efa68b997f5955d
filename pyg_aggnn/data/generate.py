"""``pyg-aggnn generate``: write a dataset of episodes to disk.

Generation is reproducible (every sample has its own seed, see
:class:`~pyg_aggnn.data.GenerationConfig`), resumable (shards are written atomically and
recorded in the manifest one by one, so running the same command after a crash or a
``kill -9`` finishes the dataset with the same bytes as an uninterrupted run) and
verifiable (a run over a complete dataset checks every shard against the manifest;
``--repair`` regenerates the shards that do not match, and rebuilds a damaged
``manifest.json`` from the shards whose bytes match the regenerated ones).

Concurrent runs are safe: a run locks the dataset directory before it creates or
removes anything in it, a second run on the same directory stops at once, and a run
that fails only ever removes what it created itself (the dataset directory while it
still holds the lock and no shard is written, then the parents it made, if empty).
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import errno
import multiprocessing
import os
import shutil
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch

from pyg_aggnn._cli_errors import ArgumentParser
from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.data.config import canonical_json
from pyg_aggnn.data.generation_config import GenerationConfig
from pyg_aggnn.data.manifest import (
    PART_MANIFESTS,
    generator_versions,
    load_manifest,
    new_manifest,
    part_manifest_file,
    read_shard,
    record_shard,
)
from pyg_aggnn.data.storage import (
    CONFIG_FILE,
    MANIFEST_FILE,
    DatasetError,
    DirectoryLock,
    atomic_write,
    create_directory,
    remove_empty_directories,
    remove_temporary_files,
    serialize_episodes,
    sha256_hex,
    shard_file,
    write_json,
)

__all__ = ["generate_dataset", "parse_part", "part_shards", "main"]


@dataclass(frozen=True)
class _Task:
    split: str
    start: int
    stop: int
    file: str
    expected_sha256: str | None  # a shard the manifest knows must come out identical
    keep_file: bool = False  # the file already holds the expected bytes: do not rewrite it


# ---------------------------------------------------------------------- shard building
_CONFIGS: dict[str, GenerationConfig] = {}  # per-process cache (layouts are drawn once)


@contextlib.contextmanager
def _single_thread():
    # one intra-op thread in every process: the bytes never depend on the thread count
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _build_shard(config: dict[str, Any], task: _Task, directory: str, fsync: bool) -> dict:
    key = canonical_json(config)
    if key not in _CONFIGS:
        _CONFIGS.clear()
        _CONFIGS[key] = GenerationConfig.from_dict(config)
    generation = _CONFIGS[key]
    with _single_thread():
        episodes = [generation.episode(task.split, i) for i in range(task.start, task.stop)]
        data = serialize_episodes(episodes)
    digest = sha256_hex(data)
    entry = {"file": task.file, "start": task.start, "stop": task.stop, "sha256": digest}
    entry["bytes"] = len(data)
    if task.expected_sha256 is not None and digest != task.expected_sha256:
        return {"split": task.split, "entry": entry, "mismatch": True}
    if task.keep_file:
        return {"split": task.split, "entry": entry, "mismatch": False}
    path = Path(directory) / task.file
    try:
        atomic_write(path, data, fsync=fsync)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    return {"split": task.split, "entry": entry, "mismatch": False}


def _init_worker(parent: int) -> None:
    # die with the parent (kill -9 included): no orphan keeps writing or holds the lock
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    torch.set_num_threads(1)


# ---------------------------------------------------------------------- progress
class _Progress:
    """A tqdm bar on a terminal, a plain line every ``interval`` seconds otherwise."""

    def __init__(self, total: int, done: int, enabled: bool, stream: IO[str], interval=10.0):
        self.total, self.done, self.stream = total, done, stream
        self.enabled, self.interval = enabled, interval
        self.start = self.last = time.perf_counter()
        self.bar = None
        if enabled and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            class _Bar(tqdm):
                monitor_interval = 0  # no monitor thread: worker processes are forked

            self.bar = _Bar(total=total, initial=done, unit="ep", file=stream, dynamic_ncols=True)

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        now = time.perf_counter()
        if self.enabled and (now - self.last >= self.interval or self.done == self.total):
            self.last = now
            percent = 100.0 * self.done / max(self.total, 1)
            print(f"generate: {self.done}/{self.total} episodes ({percent:.0f}%)", file=self.stream)
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------- planning
def _estimate_bytes(config: GenerationConfig) -> int:
    """Expected size of the dataset; building two episodes per split also dry-runs it."""
    total = 0
    for split, spec in config.splits.items():
        first = [config.episode(split, 0)]
        one = len(serialize_episodes(first))
        per = one
        if spec.count > 1:
            per = len(serialize_episodes([*first, config.episode(split, 1)])) - one
        total += spec.num_shards * (one - per) + spec.count * per
    return total


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _plan(
    directory: Path, config: GenerationConfig, manifest: dict, only: set[str] | None = None
) -> tuple[list, list, int, int]:
    """Shards to (re)build, problems found in recorded shards, samples already done and
    recorded shards verified against the manifest; ``only`` these shard files if given.
    """
    tasks, problems, done, verified = [], [], 0, 0
    for split, spec in config.splits.items():
        recorded = {e["file"]: e for e in manifest["splits"][split]["shards"]}
        for shard in range(spec.num_shards):
            start, stop = spec.shard_bounds(shard)
            name = shard_file(split, shard)
            if only is not None and name not in only:
                continue
            entry = recorded.get(name)
            problem = None if entry is None else read_shard(directory, entry)
            if entry is not None and not isinstance(problem, str):
                done += stop - start
                verified += 1
                continue
            if problem is not None:
                problems.append(f"{name}: {problem}")
            expected = None if entry is None else entry["sha256"]
            tasks.append(_Task(split, start, stop, name, expected))
    return tasks, problems, done, verified


# ---------------------------------------------------------------------- parts
def parse_part(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)``, with ``1 <= I <= N``.

    Raises:
        ValueError: ``text`` is not of that form.
    """
    index, _, count = str(text).partition("/")
    try:
        part = (int(index), int(count))
    except ValueError:
        raise ValueError(f"--part must be I/N, the I-th of N parts, got {text!r}") from None
    if not 1 <= part[0] <= part[1]:
        raise ValueError(f"--part I/N needs 1 <= I <= N, got {text!r}")
    return part


def _check_part(part: tuple[int, int]) -> tuple[int, int]:
    if (
        not isinstance(part, tuple | list)
        or len(part) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in part)
        or not 1 <= part[0] <= part[1]
    ):
        raise ValueError(f"part must be (I, N) with 1 <= I <= N, got {part!r}")
    return int(part[0]), int(part[1])


def part_shards(config: GenerationConfig, part: tuple[int, int]) -> list[str]:
    """The shard files of part ``(I, N)``: every ``N``-th shard, starting at the ``I``-th,
    in the order of the splits and of the shards (so every part gets shards of every
    large split, and the parts are disjoint and cover the dataset).
    """
    index, count = _check_part(part)
    names = [
        shard_file(split, shard)
        for split, spec in config.splits.items()
        for shard in range(spec.num_shards)
    ]
    return names[index - 1 :: count]


def _lock_file(index: int, count: int) -> str:
    return f".part-{index}-of-{count}.lock"


# ---------------------------------------------------------------------- generation
def generate_dataset(
    config: GenerationConfig,
    root: str | Path = "datasets",
    name: str = "dataset",
    workers: int = 1,
    repair: bool = False,
    progress: bool = True,
    fsync: bool = True,
    stream: IO[str] | None = None,
    part: tuple[int, int] | None = None,
) -> Path:
    """Generate (or resume, verify, repair) the dataset of ``config`` under ``root``.

    With ``part=(I, N)`` only the shards of :func:`part_shards` are generated (the same
    bytes as in a run over everything) and recorded in their own manifest, so that ``N``
    jobs (a cluster job array) can write one dataset directory at once; a run without
    ``part`` then verifies every shard the parts wrote, generates what is missing and
    completes ``manifest.json``.

    Args:
        config: what to generate.
        root: parent directory of the dataset (default: ``"datasets"``).
        name: dataset name; the directory is ``<root>/<name>-<short hash>``
            (default: ``"dataset"``).
        workers: worker processes (default: ``1``, in this process); the bytes do not
            depend on it.
        repair: regenerate recorded shards that no longer match the manifest instead of
            reporting them, and rebuild a damaged manifest from the shards whose bytes
            match the regenerated ones (default: ``False``).
        progress: show progress on ``stream`` (default: ``True``).
        fsync: flush every file to the disk before renaming it (default: ``True``).
        stream: where progress and messages go (default: ``sys.stderr``).
        part: ``(I, N)``, the ``I``-th of ``N`` disjoint parts (``1 <= I <= N``);
            default: everything. Not with ``repair``, which is the final run's job.

    Returns:
        The dataset directory.

    Raises:
        ValueError: a bad argument or config value (nothing is written).
        DatasetError: an unwritable root, a full disk, a directory another process is
            writing, a corrupt shard or manifest without ``repair``, or code that no
            longer reproduces the recorded bytes.
    """
    check_positive_int("workers", workers)
    own = None
    if part is not None:
        part = _check_part(part)
        if repair:
            raise ValueError(
                f"repair=True with part={part}: repairing is done by the run without a part"
            )
        own = set(part_shards(config, part))
    stream = sys.stderr if stream is None else stream
    directory = Path(root) / config.directory_name(name)
    canonical = config.to_dict()
    with _single_thread():
        needed = _estimate_bytes(config)
    if own is not None:
        shards = sum(spec.num_shards for spec in config.splits.values())
        needed = needed * len(own) // shards
    needed -= _present_bytes(directory, own)
    ancestor = _existing_ancestor(directory)
    free = shutil.disk_usage(ancestor).free
    if needed > free:
        raise DatasetError(
            f"not enough disk space for {directory}: needs about {needed / 1e6:.1f} MB more, "
            f"{free / 1e6:.1f} MB free on {ancestor}"
        )
    created = create_directory(directory)
    start, finished = time.perf_counter(), False
    # a part's own files (its temporary files are the only ones it may remove: the other
    # parts write theirs meanwhile)
    targets = None if part is None else {*own, part_manifest_file(*part)}
    try:
        with contextlib.ExitStack() as locks:
            lock = locks.enter_context(DirectoryLock(directory, shared=part is not None))
            try:
                if part is not None:  # one run per part at a time
                    part_lock = directory / _lock_file(*part)
                    part_lock.touch()
                    locks.enter_context(DirectoryLock(part_lock))
                    locks.callback(part_lock.unlink, missing_ok=True)  # before letting go
                remove_temporary_files(directory, targets)  # what killed writers left
                for split in config.splits:
                    (directory / split).mkdir(exist_ok=True)
                verified, written = _generate_locked(
                    directory, config, canonical, workers, repair, progress, fsync, stream, part
                )
                finished = True
            finally:
                remove_temporary_files(directory, targets)
                if not finished and directory.absolute() in created:
                    alone = part is None or lock.try_exclusive()
                    parts = any(directory.glob(PART_MANIFESTS))
                    if alone and not parts and not _present_bytes(directory):  # nothing to resume
                        shutil.rmtree(directory, ignore_errors=True)
    except OSError as error:
        raise _write_error(error) from None
    finally:
        if not finished:  # never the dataset directory unlocked: another run may own it
            remove_empty_directories([p for p in created if p != directory.absolute()])
    if progress:
        size = _present_bytes(directory, own) / 1e6
        what = "" if part is None else f" part {part[0]}/{part[1]}:"
        episodes = sum(s.count for s in config.splits.values())
        if own is not None:
            episodes = sum(
                spec.shard_bounds(k)[1] - spec.shard_bounds(k)[0]
                for split, spec in config.splits.items()
                for k in range(spec.num_shards)
                if shard_file(split, k) in own
            )
        print(
            f"generate: {directory}:{what} {verified} shard(s) verified, {written} written, "
            f"{episodes} episodes, {size:.1f} MB, {time.perf_counter() - start:.1f} s",
            file=stream,
        )
    return directory


def _present_bytes(directory: Path, only: set[str] | None = None) -> int:
    """Bytes of the shard files in ``directory`` (``only`` these, if given)."""
    if not directory.is_dir():
        return 0
    paths = directory.glob("*/shard-*.pt")
    if only is not None:
        paths = [p for p in paths if str(p.relative_to(directory)) in only]
    return sum(path.stat().st_size for path in paths)


def _write_error(error: OSError) -> DatasetError:
    reason = error.strerror or str(error)
    where = f" while writing {error.filename}" if error.filename else ""
    hint = ""
    if error.errno == errno.ENOSPC:
        hint = "; complete shards were kept: free some space and run again to resume"
    return DatasetError(f"{reason}{where}{hint}")


def _generate_locked(directory, config, canonical, workers, repair, progress, fsync, stream, part):
    config_path = directory / CONFIG_FILE
    text = canonical_json(canonical).encode("ascii")
    if config_path.exists():
        if config_path.read_bytes() != text:
            raise DatasetError(
                f"{config_path} differs from the config being generated; the directory "
                "does not belong to this config: delete it to regenerate"
            )
    else:
        atomic_write(config_path, text, fsync=fsync)
    try:
        manifest = load_manifest(directory, config)
    except DatasetError as error:
        if not repair:
            how = "--repair" if part is None else "a run without --part, with --repair,"
            raise DatasetError(f"{error}; {how} rebuilds it from the shards") from None
        print(f"generate: rebuilding {MANIFEST_FILE} from the shards: {error}", file=stream)
        manifest = new_manifest(config)
        _adopt_shards(directory, config, manifest, canonical, workers, fsync, stream)
    if part is None:  # the run over everything: it records in manifest.json
        _merge_parts(directory, config, manifest, stream)
        file, record, view, only = MANIFEST_FILE, manifest, manifest, None
    else:  # a part records its shards in its own manifest, beside what manifest.json knows
        file = part_manifest_file(*part)
        record = load_manifest(directory, config, file)
        view, only = _with_entries_of(manifest, record), set(part_shards(config, part))
    tasks, problems, done, verified = _plan(directory, config, view, only)
    if problems and view["complete"] and not repair:
        listing = "\n  ".join(problems)
        raise DatasetError(
            f"{len(problems)} shard(s) of {directory} do not match the manifest:\n  {listing}\n"
            "run the same command with --repair to regenerate them"
        )
    for problem in problems:
        print(f"generate: regenerating {problem}", file=stream)
    versions = generator_versions()
    started = [record["generator"]] + ([manifest["generator"]] if _has_shards(manifest) else [])
    if any(t.expected_sha256 is None for t in tasks) and any(g != versions for g in started):
        raise DatasetError(
            f"{directory} was started with {started[-1]}, this is {versions}; "
            "finish it with the same versions or delete it"
        )
    total = done + sum(t.stop - t.start for t in tasks)
    bar = _Progress(total, done, progress, stream)
    mismatches = []
    try:
        results = contextlib.closing(_run(tasks, canonical, directory, workers, fsync))
        with results as stream_of_results:
            for result in stream_of_results:
                if result["mismatch"]:
                    mismatches.append(result["entry"]["file"])
                else:
                    record_shard(record, result["split"], result["entry"])
                    write_json(directory / file, record, fsync=fsync)
                bar.update(result["entry"]["stop"] - result["entry"]["start"])
    finally:
        bar.close()
    if mismatches:
        raise DatasetError(
            f"regenerating {', '.join(mismatches)} gave bytes other than those the manifest "
            f"records: this code ({generator_versions()}) no longer reproduces the dataset "
            f"made by {view['generator']}; generate it anew in another root"
        )
    if part is None:
        if not manifest["complete"] or tasks:
            manifest["complete"] = True
            write_json(directory / MANIFEST_FILE, manifest, fsync=fsync)
        for path in [*directory.glob(PART_MANIFESTS), *directory.glob(_lock_file("*", "*"))]:
            path.unlink()  # merged; no part can be running (this run holds the lock alone)
    return verified, len(tasks)


def _has_shards(manifest: dict) -> bool:
    return any(recorded["shards"] for recorded in manifest["splits"].values())


def _with_entries_of(manifest: dict, record: dict) -> dict:
    """``record`` (a part's manifest) plus the entries of ``manifest`` it lacks, with the
    completeness of ``manifest``: what a part checks its shards against.
    """
    view = copy.deepcopy(record)
    view["complete"] = manifest["complete"]
    for split, recorded in manifest["splits"].items():
        known = {e["file"] for e in view["splits"][split]["shards"]}
        for entry in recorded["shards"]:
            if entry["file"] not in known:
                record_shard(view, split, entry)
    return view


def _merge_parts(directory: Path, config: GenerationConfig, manifest: dict, stream) -> None:
    """Record in ``manifest`` the shards that the parts' manifests record and it does not
    (:func:`_plan` then verifies their bytes like any recorded shard).

    Raises:
        DatasetError: a part's manifest is damaged, of another config, or was written by
            other versions than the dataset's.
    """
    merged, parts = 0, sorted(directory.glob(PART_MANIFESTS))
    for path in parts:
        record = load_manifest(directory, config, path.name)
        if _has_shards(record) and record["generator"] != manifest["generator"]:
            raise DatasetError(
                f"{path} was written with {record['generator']}, the dataset with "
                f"{manifest['generator']}; finish it with the same versions or delete it"
            )
        for split, recorded in record["splits"].items():
            known = {e["file"] for e in manifest["splits"][split]["shards"]}
            for entry in recorded["shards"]:
                if entry["file"] not in known:
                    record_shard(manifest, split, entry)
                    merged += 1
    if parts:
        print(
            f"generate: {merged} shard(s) recorded by {len(parts)} part(s), verifying them",
            file=stream,
        )


def _adopt_shards(directory, config, manifest, canonical, workers, fsync, stream) -> None:
    """Record in ``manifest`` the shard files whose bytes this code regenerates exactly;
    the others are left to be regenerated. If none matches, the shards were made by
    other code (or are all damaged): :class:`DatasetError`, and nothing is changed.
    """
    tasks = []
    for split, spec in config.splits.items():
        for shard in range(spec.num_shards):
            name = shard_file(split, shard)
            try:
                digest = sha256_hex((directory / name).read_bytes())
            except OSError:  # missing: generated like any other shard
                continue
            start, stop = spec.shard_bounds(shard)
            tasks.append(_Task(split, start, stop, name, digest, keep_file=True))
    results = list(_run(tasks, canonical, directory, workers, fsync))
    matched = [r for r in results if not r["mismatch"]]
    if results and not matched:
        raise DatasetError(
            f"none of the {len(results)} shard(s) of {directory} is what this code "
            f"({generator_versions()}) generates for its config, so {MANIFEST_FILE} cannot "
            "be rebuilt from them; generate the dataset anew in another root"
        )
    for result in matched:
        record_shard(manifest, result["split"], result["entry"])
    for result in results:
        if result["mismatch"]:
            print(f"generate: regenerating {result['entry']['file']}: bytes differ", file=stream)
    write_json(directory / MANIFEST_FILE, manifest, fsync=fsync)


def _run(tasks: list[_Task], canonical: dict, directory: Path, workers: int, fsync: bool):
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            yield _build_shard(canonical, task, str(directory), fsync)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        min(workers, len(tasks)), context, initializer=_init_worker, initargs=(os.getpid(),)
    ) as pool:
        futures = [pool.submit(_build_shard, canonical, t, str(directory), fsync) for t in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


# ---------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pyg-aggnn generate``. A bad value raises ``ValueError`` and a
    dataset that cannot be written or repaired :class:`DatasetError`, which
    ``pyg-aggnn`` prints as one line (exit status 2 and 1).
    """
    parser = ArgumentParser(
        prog="pyg-aggnn generate",
        description="Generate a dataset of wireless episodes to <root>/<name>-<hash>/.",
    )
    parser.add_argument("--config", required=True, help="generation config (YAML)")
    parser.add_argument("--root", default="datasets", help="parent directory (default: datasets)")
    parser.add_argument(
        "--name", default=None, help="dataset name (default: the config file's stem)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument(
        "--repair",
        action="store_true",
        help="regenerate shards that fail verification; rebuild a damaged manifest.json "
        "from the shards whose bytes match the regenerated ones",
    )
    parser.add_argument(
        "--part",
        default=None,
        metavar="I/N",
        help="write only the I-th of N disjoint sets of shards (one job of a job array; "
        "parts may run at once on one directory); a final run without --part verifies "
        "them and completes the manifest",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--no-fsync", action="store_true", help="do not flush files to disk (faster, less safe)"
    )
    args = parser.parse_args(argv)
    try:
        check_positive_int("--workers", args.workers)
        part = None if args.part is None else parse_part(args.part)
        if part is not None and args.repair:
            raise ValueError("--repair with --part: repair in the final run, without --part")
        config = GenerationConfig.from_file(args.config)
        name = args.name if args.name is not None else Path(args.config).stem
        directory = generate_dataset(
            config,
            root=args.root,
            name=name,
            workers=args.workers,
            repair=args.repair,
            progress=not args.quiet,
            fsync=not args.no_fsync,
            part=part,
        )
    except KeyboardInterrupt:
        print("pyg-aggnn generate: interrupted; run the same command to resume", file=sys.stderr)
        return 130
    print(directory)
    return 0
