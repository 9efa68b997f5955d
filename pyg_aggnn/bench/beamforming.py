"""Beamforming speed: WCGCN decision latency and WMMSE beamforming time vs network size."""

from __future__ import annotations

import gc
import math
from typing import Any

import torch

from pyg_aggnn.baselines import wmmse_beamforming
from pyg_aggnn.bench.timing import measure, peak_memory_mb
from pyg_aggnn.nn import WCGCNBeamforming
from pyg_aggnn.wireless import MISOD2D

__all__ = ["beamforming_suite", "bench_scenario", "PAIR_FLOOR_DB"]

#: Median interference-to-noise ratio below which the bench's networks above 256 links
#: leave a pair out (the D2D scenario's ``interference_floor_db``): 40 dB keeps the pairs
#: within about 300 m, the WCGCN's default graph distance, so that networks of 10^5
#: links fit in memory; smaller networks keep every pair.
PAIR_FLOOR_DB = 40.0


def bench_scenario(num_links: int, num_antennas: int = 2) -> MISOD2D:
    """The training density of the beamforming config (50 links per 1,000 m x 1,000 m)."""
    return MISOD2D(
        num_links,
        num_antennas=num_antennas,
        field_side_m=1000.0 * math.sqrt(num_links / 50),
        interference_floor_db=PAIR_FLOOR_DB,
        link_weights="uniform",
    )


def beamforming_suite(
    sizes: list[int],
    device: str = "cpu",
    num_antennas: int = 2,
    wmmse_iters: int = 100,
    budget_s: float = 2.0,
) -> list[dict[str, Any]]:
    """One MISO network per size: the WCGCN's all-link decision (inference mode, median
    after warm-up, repeated for about ``budget_s``) and WMMSE beamforming on every
    materialized pair for ``wmmse_iters`` iterations, on the same episode.
    """
    torch.manual_seed(0)
    model = WCGCNBeamforming(num_antennas).to(device).eval()
    rows = []
    for m in sizes:
        episode = bench_scenario(m, num_antennas).episode(1, seed=0, device=device)
        graph_edges = int(model.graph(episode).numel())
        with torch.inference_mode():
            once = measure(lambda ep=episode: model.beamformers(ep), 1, 1, device)
            repeats = max(3, min(100, int(budget_s / max(once["median_s"], 1e-6))))
            latency = measure(
                lambda ep=episode: model.beamformers(ep),
                repeats=repeats,
                warmup=min(3, repeats),
                device=device,
                max_seconds=budget_s,
            )

            def solve(ep=episode) -> None:
                wmmse_beamforming(
                    ep.direct_channel,
                    ep.edge_index,
                    ep.edge_channel,
                    ep.max_power,
                    ep.noise_power,
                    ep.link_weight,
                    num_iters=wmmse_iters,
                )

            wmmse = measure(solve, repeats=3, warmup=0, device=device, max_seconds=budget_s)
        memory = peak_memory_mb(device)
        rows.append(
            {
                "suite": "beamforming",
                "device": device,
                "K": m,
                "antennas": num_antennas,
                "field_m": 1000.0 * math.sqrt(m / 50),
                "pairs": episode.num_edges - m,
                "graph_edges": graph_edges,
                "wcgcn_median_s": latency["median_s"],
                "wcgcn_min_s": latency["min_s"],
                "wcgcn_repeats": latency["repeats"],
                "wmmse_iterations": wmmse_iters,
                "wmmse_median_s": wmmse["median_s"],
                "wmmse_over_wcgcn": wmmse["median_s"] / latency["median_s"],
                "peak_memory_mb": memory,
            }
        )
        del episode
        gc.collect()
    return rows
