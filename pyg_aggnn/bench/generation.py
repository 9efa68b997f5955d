"""Episode generation throughput and peak memory vs network size."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import torch

from pyg_aggnn.bench.timing import measure, peak_rss_mb
from pyg_aggnn.wireless import AdHoc

__all__ = ["generation_suite", "generation_point"]


def generation_point(m: int, slots: int, repeats: int, reference_links: int = 25) -> dict[str, Any]:
    """Time ``AdHoc(m, reference_links).episode(slots)`` in this process."""
    scenario = AdHoc(m, reference_links=reference_links)
    seeds = iter(range(10**6))
    holder: dict[str, Any] = {}

    def run() -> None:
        holder.pop("episode", None)
        holder["episode"] = scenario.episode(slots, seed=next(seeds))

    stats = measure(run, repeats=repeats, warmup=1 if m <= 10**4 else 0, max_seconds=30)
    episode = holder["episode"]
    size = sum(
        v.numel() * v.element_size() for v in episode.to_dict().values() if torch.is_tensor(v)
    )
    return {
        "suite": "generation",
        "m": m,
        "slots": slots,
        "edges": episode.num_edges,
        "candidates_per_link": episode.num_edges / m,
        "graph_neighbours_per_link": float((episode.edge_weight > 0).float().mean(1).sum()) / m,
        "links_slots_per_s": m * slots / stats["median_s"],
        "episode_mb": size / 2**20,
        "peak_rss_mb": peak_rss_mb(),
        **stats,
    }


def generation_suite(sizes: list[int], slots: int, repeats: int) -> list[dict[str, Any]]:
    """One fresh subprocess per size, so that each peak memory is that size's own."""
    rows = []
    for m in sizes:
        code = (
            f"import json, torch; torch.set_num_threads({torch.get_num_threads()}); "
            "from pyg_aggnn.bench.generation import generation_point; "
            f"print(json.dumps(generation_point({m}, {slots}, {repeats})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows
