"""Throughput of ``pyg-aggnn generate`` and of reading the result back.

Generates the 10-link Gaussian IC of the model-based configs (one slot), the ad-hoc
m = 50 setting (10 slots: K = 6 aggregation plus 5 decisions) and m = 10^4 networks at
the same density, with 1 and 2 worker processes, and prints the
median samples/s, MB/s and CPU time per sample (workers included; what an idle
machine's throughput follows from) over the repeats, plus, in one thread each (as in a
data-loader worker), the sequential read rate of ``WirelessDataset`` and the rate of
simulating the same episodes in memory, as online training does
(``GenerationConfig.episode``, the episodes the dataset stores), and their ratio.
Everything is written to a temporary directory and removed.

    pyg-aggnn bench dataset_throughput                 # full run (~ minutes)
    pyg-aggnn bench dataset_throughput --quick         # small counts, smoke test
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from pyg_aggnn.data import GenerationConfig, WirelessDataset, generate_dataset


def settings(args) -> dict[str, GenerationConfig]:
    """The generation settings to measure, by name (the model-based configs' 10-link
    Gaussian IC, ad-hoc m = 50 and m = 10^4).
    """

    def adhoc(num_links: int, count: int, shard_size: int, network: str) -> GenerationConfig:
        return GenerationConfig(
            scenario={
                "class_path": "AdHoc",
                "init_args": {"num_links": num_links, "reference_links": 50},
            },
            splits={"train": count},
            seed=0,
            num_slots=10,
            network=network,
            shard_size=shard_size,
        )

    gaussian_ic = GenerationConfig(
        scenario={"class_path": "GaussianIC", "init_args": {"num_links": 10}},
        splits={"train": args.count_m50},
        seed=0,
        num_slots=1,
        network="random",
        shard_size=1000,
    )
    return {
        "gaussian-ic K=10": gaussian_ic,
        "adhoc m=50 random": adhoc(50, args.count_m50, 250, "random"),
        "adhoc m=50 fixed": adhoc(50, args.count_m50, 250, "fixed"),
        "adhoc m=1e4 random": adhoc(10_000, args.count_large, 2, "random"),
    }


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(config: GenerationConfig, workers: int, fsync: bool, root: Path) -> dict:
    """Generate ``config`` under ``root`` once: wall and CPU time, samples/s and MB/s."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    path = generate_dataset(config, root, "bench", workers=workers, progress=False, fsync=fsync)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    size = sum(f.stat().st_size for f in path.rglob("*.pt"))
    dataset = WirelessDataset(path, "train", cache_bytes=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a data-loader worker
    start = time.perf_counter()
    for k in range(len(dataset)):
        dataset[k]
    read = time.perf_counter() - start
    start = time.perf_counter()
    for k in range(len(dataset)):
        config.episode("train", k)
    simulate = time.perf_counter() - start
    torch.set_num_threads(threads)
    shutil.rmtree(path)
    count = len(dataset)
    return {
        "gen_sps": count / seconds,
        "cpu_ms": 1e3 * cpu / count,
        "gen_mbps": size / 1e6 / seconds,
        "seconds": seconds,
        "read_sps": count / read,
        "simulate_sps": count / simulate,
        "mb": size / 1e6,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench dataset_throughput``."""
    # temporary directories are removed on SIGTERM too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench dataset_throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--count-m50", type=int, default=10_000)
    parser.add_argument("--count-large", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", default=None, help="run only settings containing this text")
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1,000 / 4 samples, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.count_m50, args.count_large, args.repeats = 1000, 4, 1
    print(
        f"{'setting':<20} {'workers':>7} {'samples':>8} {'MB':>8} {'gen s':>7} "
        f"{'gen samples/s':>13} {'gen MB/s':>9} {'CPU ms/sample':>13} {'read samples/s':>14} "
        f"{'simulate samples/s':>18} {'simulate / read':>15}"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} (the machine has {os.cpu_count()} cores)")
    for name, config in settings(args).items():
        if args.only and args.only not in name:
            continue
        rates = {}
        for workers in args.workers:
            runs = []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory() as root:
                    runs.append(measure(config, workers, not args.no_fsync, Path(root)))
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            rates[workers] = med["gen_sps"]
            count = config.splits["train"].count
            print(
                f"{name:<20} {workers:>7} {count:>8} {med['mb']:>8.1f} {med['seconds']:>7.2f} "
                f"{med['gen_sps']:>13.1f} {med['gen_mbps']:>9.1f} {med['cpu_ms']:>13.2f} "
                f"{med['read_sps']:>14.1f} {med['simulate_sps']:>18.1f} "
                f"{med['simulate_sps'] / med['read_sps']:>14.2f}x"
            )
        if 1 in rates and len(rates) > 1:
            ratios = ", ".join(
                f"{w} workers / 1: {r / rates[1]:.2f}x" for w, r in rates.items() if w != 1
            )
            print(f"{'':<20} speed-up {ratios}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
