"""``pyg-aggnn bench``: the benchmark suite, as a table and JSON.

Suites: ``latency`` (all-node decision latency of Agg-GNN, Sel-GNN and WCGCN vs network
size at fixed density), ``wmmse`` (WMMSE centralized/distributed vs size, and 1,000
Gaussian-IC networks next to a batched dense NumPy reference), ``training``
(policy-gradient steps and episodes per second of the default configs) and
``generation`` (episode generation throughput and peak memory) and ``beamforming``
(WCGCN beamforming decision latency and WMMSE beamforming time vs size, MISO D2D).

Measurements in depth, each with its own options (``pyg-aggnn bench NAME --help``):
``model_latency`` (decision latency vs size: wall and CPU time, growth vs edges),
``wmmse_speed`` (batched torch WMMSE next to two batched dense NumPy references),
``dataset_throughput`` (``pyg-aggnn generate`` throughput and read-back rate),
``evaluation_scale`` (seconds per network of every evaluated method vs size) and
``train_quality`` (training quality against the baselines over seeds) and
``train_throughput`` (model-based training, networks per second, against a plain PyG
loop of the same model); the last two run from a checkout: they read ``configs/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from pyg_aggnn._cli_errors import ArgumentParser
from pyg_aggnn.bench.timing import machine_info

SUITES = ("latency", "wmmse", "training", "generation", "beamforming")
#: The measurements in depth: modules of this package with a ``main(argv)`` of their own.
SCRIPTS = (
    "model_latency",
    "wmmse_speed",
    "dataset_throughput",
    "evaluation_scale",
    "train_quality",
    "train_throughput",
)

QUICK = {
    "latency_sizes": [100, 1000, 10_000, 100_000],
    "wmmse_sizes": [100, 1000, 10_000],
    "wmmse_networks": 1000,
    "generation_sizes": [1000, 10_000, 100_000],
    "training_steps": 20,
    "repeats": 3,
    "beamforming_sizes": [50, 1000, 10_000],
}
FULL = {
    "latency_sizes": [100, 1000, 10_000, 100_000, 1_000_000],
    "wmmse_sizes": [100, 1000, 10_000, 100_000],
    "wmmse_networks": 1000,
    "generation_sizes": [1000, 10_000, 100_000],
    "training_steps": 100,
    "repeats": 5,
    "beamforming_sizes": [50, 200, 1000, 10_000, 100_000],
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print ``rows`` as an aligned table of ``columns``."""
    if not rows:
        return
    cells = [[_fmt(row.get(col, "")) for col in columns] for row in rows]
    widths = [max(len(col), *(len(c[k]) for c in cells)) for k, col in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(col.rjust(w) for col, w in zip(columns, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))
    sys.stdout.flush()


def _on_every_device(suite, sizes: list[int], devices: list[str], args) -> list[dict[str, Any]]:
    """The rows of ``suite`` at the sizes up to ``--max-m`` on every device, in order."""
    sizes = [m for m in sizes if m <= args.max_m]
    budget_s = args.budget_s or (1.0 if args.quick else 3.0)
    return [row for device in devices for row in suite(sizes, device=device, budget_s=budget_s)]


def plot_latency(rows: list[dict[str, Any]], path: Path) -> None:
    """Log-log plot of decision latency vs number of links, one line per model and device."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    keys = sorted({(r["model"], r["device"]) for r in rows})
    for model, device in keys:
        pts = sorted(
            (r["m"], r["median_s"]) for r in rows if (r["model"], r["device"]) == (model, device)
        )
        ax.loglog([p[0] for p in pts], [p[1] * 1e3 for p in pts], "o-", label=f"{model} ({device})")
    ms = sorted({r["m"] for r in rows})
    if len(ms) > 1:
        ref = min(r["median_s"] for r in rows if r["m"] == ms[0]) * 1e3
        ax.loglog(ms, [ref * m / ms[0] for m in ms], "k:", lw=1, label="linear in m")
    ax.axhline(6.0, color="tab:red", lw=0.8, ls="--", label="6 ms")
    ax.set_xlabel("number of links m (fixed density)")
    ax.set_ylabel("decision latency, all nodes (ms)")
    ax.set_title("Decision latency vs network size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen suites and return everything measured."""
    budget = QUICK if args.quick else FULL
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])
    report: dict[str, Any] = {
        "machine": machine_info(),
        "quick": args.quick,
        "heap": args.heap,
        "results": {},
    }
    print(f"machine: {json.dumps(report['machine'])}")
    started = time.perf_counter()
    if "latency" in args.suites:
        from pyg_aggnn.bench.latency import latency_suite, loglog_slope

        rows = _on_every_device(latency_suite, budget["latency_sizes"], devices, args)
        report["results"]["latency"] = rows
        print_table(
            "Decision latency (all nodes, last slot, median after warm-up)",
            rows,
            [
                "model",
                "device",
                "m",
                "edges",
                "median_s",
                "min_s",
                "max_s",
                "edges_per_s",
                "peak_memory_mb",
            ],
        )
        slopes = []
        for model, device in sorted({(r["model"], r["device"]) for r in rows}):
            pts = [
                r for r in rows if (r["model"], r["device"]) == (model, device) and r["m"] >= 1000
            ]
            if len(pts) >= 2:
                slope = loglog_slope([r["edges"] for r in pts], [r["median_s"] for r in pts])
                slopes.append(
                    {
                        "model": model,
                        "device": device,
                        "loglog_slope_vs_edges": slope,
                        "from_m": pts[0]["m"],
                        "to_m": pts[-1]["m"],
                    }
                )
        report["results"]["latency_slopes"] = slopes
        print_table(
            "Cost growth (log-log slope of latency vs edges)",
            slopes,
            ["model", "device", "from_m", "to_m", "loglog_slope_vs_edges"],
        )
        if args.plot:
            plot_latency(rows, Path(args.plot))
            print(f"wrote {args.plot}")
    if "wmmse" in args.suites:
        from pyg_aggnn.bench.wmmse import wmmse_reference_suite, wmmse_scaling_suite

        ref = wmmse_reference_suite(budget["wmmse_networks"], 50, 100, budget["repeats"])
        scaling = wmmse_scaling_suite(
            [m for m in budget["wmmse_sizes"] if m <= args.max_m], repeats=budget["repeats"]
        )
        report["results"]["wmmse_reference"] = ref
        report["results"]["wmmse_scaling"] = scaling
        print_table(
            "WMMSE, 100 iterations, Gaussian IC (float64), torch vs batched dense NumPy",
            [ref],
            [
                "networks",
                "links",
                "numpy_median_s",
                "torch_median_s",
                "speedup",
                "max_abs_power_diff",
            ],
        )
        print_table(
            "WMMSE vs size (fixed-density ad-hoc, float64)",
            scaling,
            [
                "mode",
                "m",
                "iterations",
                "median_s",
                "numpy_median_s",
                "speedup",
                "max_abs_power_diff",
            ],
        )
    if "training" in args.suites:
        from pyg_aggnn.bench.training import training_suite

        rows = training_suite(steps=budget["training_steps"])
        report["results"]["training"] = rows
        print_table(
            "Training throughput (default configs, CPU)",
            rows,
            ["config", "model", "steps", "steps_per_s", "episodes_per_s", "median_step_s"],
        )
    if "generation" in args.suites:
        from pyg_aggnn.bench.generation import generation_suite

        rows = generation_suite(budget["generation_sizes"], slots=100, repeats=budget["repeats"])
        report["results"]["generation"] = rows
        print_table(
            "Episode generation (ad-hoc, fixed density, 100 slots, float32)",
            rows,
            [
                "m",
                "edges",
                "candidates_per_link",
                "median_s",
                "links_slots_per_s",
                "episode_mb",
                "peak_rss_mb",
            ],
        )
    if "beamforming" in args.suites:
        from pyg_aggnn.bench.beamforming import beamforming_suite

        rows = _on_every_device(beamforming_suite, budget["beamforming_sizes"], devices, args)
        report["results"]["beamforming"] = rows
        print_table(
            "Beamforming (MISO D2D, N_t = 2, fixed density): WCGCN decision of all links vs "
            "WMMSE beamforming, 100 iterations",
            rows,
            [
                "device",
                "K",
                "pairs",
                "graph_edges",
                "wcgcn_median_s",
                "wmmse_median_s",
                "wmmse_over_wcgcn",
                "peak_memory_mb",
            ],
        )
    report["wall_s"] = time.perf_counter() - started
    print(f"\nbench finished in {report['wall_s']:.0f} s")
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pyg-aggnn bench``: the suite, or ``pyg-aggnn bench NAME ...``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SCRIPTS:
        import importlib

        importlib.import_module(f"pyg_aggnn.bench.{argv[0]}").main(argv[1:])
        return 0
    parser = ArgumentParser(
        prog="pyg-aggnn bench",
        description=__doc__.replace("``", ""),  # the docstring's reST, as plain text
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes and repeats (< 5 min on 2 cores)"
    )
    parser.add_argument(
        "--suites", nargs="+", choices=SUITES, default=list(SUITES), help="suites to run"
    )
    parser.add_argument(
        "--max-m", type=int, default=10**6, help="largest network size to run (default: 1e6)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument(
        "--cpu-only", action="store_true", help="skip CUDA even when it is available"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="seconds of repeats per model and size (default: 1 quick, 3 full)",
    )
    parser.add_argument(
        "--heap", action="store_true", help="glibc: keep freed memory (large networks)"
    )
    parser.add_argument("--json", default=None, help="write the full report to this JSON file")
    parser.add_argument("--plot", default=None, help="write the log-log latency plot (PNG) here")
    args = parser.parse_args(argv)
    if args.max_m < 1:
        parser.error(f"--max-m must be >= 1, got {args.max_m}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.heap:
        from pyg_aggnn.bench.timing import keep_freed_memory

        keep_freed_memory()
    report = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0
