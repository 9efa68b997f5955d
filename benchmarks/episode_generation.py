"""Episode generation time and peak memory vs network size (fixed-density ad-hoc).

Each size runs in a fresh subprocess so that its peak resident memory is its own.

    python benchmarks/episode_generation.py --sizes 1000 10000 100000 --slots 100
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def _one(m: int, slots: int, repeats: int, reference: int) -> dict:
    import torch

    from pyg_aggnn.wireless import AdHoc

    torch.set_num_threads(2)
    scenario = AdHoc(m, reference_links=reference)
    times, episode = [], None
    for r in range(repeats):
        episode = None
        start = time.perf_counter()
        episode = scenario.episode(slots, seed=r)
        times.append(time.perf_counter() - start)
    tensor_bytes = sum(
        v.numel() * v.element_size() for v in episode.to_dict().values() if torch.is_tensor(v)
    )
    neighbours = (episode.edge_weight > 0).sum(0).float().mean().item() / m
    return {
        "m": m,
        "slots": slots,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "edges": episode.num_edges,
        "candidates_per_link": episode.num_edges / m,
        "graph_neighbours_per_link": neighbours,
        "episode_mb": tensor_bytes / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--slots", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-links", type=int, default=25)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.slots, args.repeats, args.reference_links)))
        return
    header = f"{'m':>8} {'edges':>10} {'cand/link':>9} {'nbrs/link':>9} {'median s':>9} {'min s':>7} {'max s':>7} {'episode MB':>10} {'peak RSS MB':>11}"
    print(
        f"ad-hoc, fixed density (reference m = {args.reference_links}), {args.slots} slots, float32"
    )
    print(header)
    rows = []
    for m in args.sizes:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            str(m),
            "--slots",
            str(args.slots),
            "--repeats",
            str(args.repeats),
            "--reference-links",
            str(args.reference_links),
        ]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        rows.append(row)
        print(
            f"{row['m']:>8} {row['edges']:>10} {row['candidates_per_link']:>9.2f} "
            f"{row['graph_neighbours_per_link']:>9.2f} {row['median_s']:>9.3f} {row['min_s']:>7.3f} "
            f"{row['max_s']:>7.3f} {row['episode_mb']:>10.1f} {row['peak_rss_mb']:>11.1f}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
