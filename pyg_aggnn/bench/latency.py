"""Decision latency of the GNN policies vs network size (fixed-density ad-hoc)."""

from __future__ import annotations

import gc
import math
from typing import Any

import torch

from pyg_aggnn.bench.timing import measure, peak_memory_mb
from pyg_aggnn.nn import WCGCN, AggGNN, SelectionGNN
from pyg_aggnn.wireless import AdHoc

__all__ = ["MODELS", "latency_suite", "loglog_slope"]

MODELS = {
    "AggGNN": AggGNN.synchronous,
    "SelectionGNN": SelectionGNN.paper,
    "WCGCN": WCGCN.paper,
}


def loglog_slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    lx, ly = [math.log(v) for v in x], [math.log(v) for v in y]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly))
    den = sum((a - mx) ** 2 for a in lx)
    return num / den if den else float("nan")


def latency_suite(
    sizes: list[int],
    device: str = "cpu",
    models: list[str] | None = None,
    slots: int = 10,
    budget_s: float = 2.0,
) -> list[dict[str, Any]]:
    """All-node decision latency at the last slot of one episode per size.

    The episode of ``slots`` slots is simulated once per size and moved to ``device``;
    each model runs in inference mode after warm-up, repeated for about ``budget_s``.
    """
    torch.manual_seed(0)
    names = list(MODELS) if models is None else models
    nets = {name: MODELS[name]().to(device).eval() for name in names}
    rows = []
    for m in sizes:
        episode = AdHoc(m, reference_links=25).episode(slots, seed=0, device=device)
        graph_edges = int((episode.edge_weight > 0).sum()) / slots
        for name, net in nets.items():
            with torch.inference_mode():
                once = measure(
                    lambda net=net, ep=episode: net.logits(ep), repeats=1, warmup=1, device=device
                )
                repeats = max(3, min(100, int(budget_s / max(once["median_s"], 1e-6))))
                stats = measure(
                    lambda net=net, ep=episode: net.logits(ep),
                    repeats=repeats,
                    warmup=min(3, repeats),
                    device=device,
                    max_seconds=budget_s,
                )
            memory = peak_memory_mb(device)
            rows.append(
                {
                    "suite": "latency",
                    "model": name,
                    "device": device,
                    "m": m,
                    "edges": episode.num_edges,
                    "graph_edges_per_slot": graph_edges,
                    "edges_per_s": episode.num_edges / stats["median_s"],
                    "peak_memory_mb": memory,
                    **stats,
                }
            )
        del episode
        gc.collect()
    return rows
