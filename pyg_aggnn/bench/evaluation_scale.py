"""Evaluation cost vs network size: seconds per network of every method (transference
across scale at fixed density, trained size 25), and what the sizes are.

Times the powers of an Agg-GNN (untrained: the cost does not depend on the weights),
distributed and centralized WMMSE, equal and random power on the same episodes, with
``pyg_aggnn.evaluation.evaluate``; prints medians over ``--repeats`` passes.

    pyg-aggnn bench evaluation_scale --sizes 1000 2000 5000 10000 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench evaluation_scale``."""
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench evaluation_scale", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--networks", type=int, default=2, help="networks per size")
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from lightning_modules.primal_dual import PrimalDualModule
    from pyg_aggnn.evaluation import (
        BaselineAllocator,
        PolicyAllocator,
        at_size,
        baseline_suite,
        evaluate,
        simulate_episodes,
    )
    from pyg_aggnn.nn import AggGNN
    from pyg_aggnn.wireless import AdHoc

    policy = AggGNN(K=5, num_layers=3, hidden_channels=4, kernel_size=5, readout="linear")
    module = PrimalDualModule(policy).eval()
    names = ("wmmse", "wmmse_central", "equal", "random")
    print(
        f"threads {args.threads}, {args.networks} networks x {args.slots} slots per size, "
        f"median of {args.repeats}; seconds per network"
    )
    header = f"{'m':>7} {'edges/link':>10} {'simulate':>9}" + "".join(
        f"{n:>14}" for n in ("agg", *names)
    )
    print(header)
    for size in args.sizes:
        start = time.perf_counter()
        episodes = simulate_episodes(at_size(AdHoc(25), size), args.networks, args.slots)
        simulate = (time.perf_counter() - start) / args.networks
        methods = {"agg": PolicyAllocator(module)}
        suite = baseline_suite(names, num_exchanges=5, max_links=size)
        methods.update({n: BaselineAllocator(b) for n, b in suite.items()})
        seconds = {name: [] for name in methods}
        for _ in range(args.repeats):
            results = evaluate(methods, episodes, warmup_slots=4)
            for name, result in results.items():
                seconds[name].append(result.seconds / args.networks)
        edges = episodes[0].num_edges / size
        row = f"{size:>7} {edges:>10.1f} {simulate:>9.3f}"
        row += "".join(f"{statistics.median(seconds[n]):>14.3f}" for n in methods)
        print(row, flush=True)


if __name__ == "__main__":
    main()
