r"""Multi-cell uplink: 5 base stations, 50 users (the papers' Fig. 12 and 13).

Users of a cell share their base station as receiver, so they interfere at the same
receiver. Left: the training curve of an Agg-GNN with hop size 8 against the
baselines. Right: the final test sum rate of Agg-GNNs trained with each hop size,
beside the distributed WMMSE with as many exchanges, equal and random power.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods, run_spec
from pyg_aggnn.wireless import Cellular

__all__ = ["run"]

NAME = "cellular"
TITLE = "Cellular uplink, 5 cells x 10 users: training curve (K = 8) and hop sweep (Fig. 12, 13)"

CURVE_HOPS = 8
#: The uplink's rates are small; at a larger step Adam drives every user silent.
LEARNING_RATE = 0.001


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    budget = ctx.budget
    cells, users = budget.cells
    scenario = Cellular(num_cells=cells, users_per_cell=users)
    m = cells * users
    name = f"cellular_{cells}x{users}_agg"
    fig, axes = plotting.figure(ncols=2)
    curve_run = ctx.train(
        run_spec(ctx, f"{name}_K{CURVE_HOPS}", "agg", scenario, CURVE_HOPS, lr=LEARNING_RATE)
    )
    plotting.draw_training(
        axes[0],
        {"agg": curve_run.curve},
        f"cellular, {cells} cells x {users} users, K = {CURVE_HOPS}",
    )
    hops = sorted(set(budget.cellular_hops))
    slots, warmup = max(10, max(hops) + 5), max(hops) - 1
    rows, points = [], {}
    for K in hops:
        trained = curve_run
        if K != CURVE_HOPS:
            spec = run_spec(
                ctx, f"{name}_K{K}", "agg", scenario, K, steps="sweep_steps", lr=LEARNING_RATE
            )
            trained = ctx.train(spec)
        results = evaluate_methods(
            ctx,
            {"agg": trained.load(ctx.device)},
            scenario,
            budget.test_size,
            K,
            network="fixed",
            num_slots=slots,
            warmup_slots=warmup,
        )
        table = summary_rows({f"K={K}": results})
        for row in table:
            row["K"] = K
            points.setdefault(row["method"], []).append(row)
        rows += table
    ax = axes[1]
    for index, (method, series) in enumerate(points.items()):
        ax.plot(
            [p["K"] for p in series],
            [p["sum_rate"] for p in series],
            marker="o",
            linewidth=2 if method == "agg" else 1.3,
            **plotting.style(method, index),
        )
    ax.set_xlabel("hop size K (exchanges; WMMSE iterations)")
    ax.set_ylabel(plotting.RATE_LABEL)
    ax.set_title(f"cellular, m = {m} users: final test sum rate")
    ax.set_xticks(hops)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figures = [folder / "cellular"]
    plotting.save(fig, figures[0])
    curve = [{"model": "agg", "K": CURVE_HOPS, **row} for row in curve_run.curve]
    tables = [
        write_csv(folder / "training_curve.csv", curve),
        write_csv(folder / "hop_sweep.csv", rows),
    ]
    headline = [r for r in rows if r["K"] == max(hops)]
    return Output(NAME, TITLE, figures, tables, headline=headline)
