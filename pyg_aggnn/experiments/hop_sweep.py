r"""Final performance against the aggregation length ``K`` for several ``delta``
(the papers' Fig. 6).

For every fading innovation factor :math:`\delta` and every ``K``, an Agg-GNN is trained
on the ad-hoc ``m = 25`` network and tested on held-out episodes of it. Its sum rate is
shown relative to the centralized WMMSE on the same episodes (a reference that does
not depend on ``K``), beside the distributed WMMSE with the same ``K`` exchanges.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods, run_spec
from pyg_aggnn.wireless import AdHoc

__all__ = ["run"]

NAME = "hop-sweep"
TITLE = "Agg-GNN sum rate relative to centralized WMMSE vs aggregation length K, per delta (Fig. 6)"


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    budget = ctx.budget
    m = budget.adhoc_sizes[0]
    rows, headline = [], []
    fig, axes = plotting.figure()
    ax = axes[0]
    for index, delta in enumerate(budget.deltas):
        scenario = AdHoc(m, delta=delta)
        ratios, wmmse_ratios = [], []
        for K in budget.hops:
            spec = run_spec(
                ctx, f"adhoc_m{m}_agg_K{K}_delta{delta:g}", "agg", scenario, K, steps="sweep_steps"
            )
            trained = ctx.train(spec)
            results = evaluate_methods(
                ctx,
                {"agg": trained.load(ctx.device)},
                scenario,
                budget.test_size,
                K,
                network="fixed",
                baselines=("wmmse", "wmmse_central", "equal", "random"),
                num_slots=max(10, max(budget.hops) + 5),
                warmup_slots=max(budget.hops) - 1,
            )
            table = summary_rows({f"delta={delta:g}, K={K}": results})
            reference = results["wmmse_central"].summary()["sum_rate"]
            for row in table:
                row.update(delta=delta, K=K, relative_to_wmmse_central=row["sum_rate"] / reference)
            rows += table
            ratios.append(results["agg"].summary()["sum_rate"] / reference)
            wmmse_ratios.append(results["wmmse"].summary()["sum_rate"] / reference)
        color = f"C{index}"
        ax.plot(
            budget.hops,
            ratios,
            color=color,
            marker="o",
            linewidth=2,
            label=rf"Agg-GNN, $\delta$ = {delta:g}",
        )
        ax.plot(
            budget.hops,
            wmmse_ratios,
            color=color,
            linestyle="--",
            marker="x",
            label=rf"WMMSE, K exchanges, $\delta$ = {delta:g}",
        )
        headline.append(
            {
                "setting": f"delta={delta:g}, K={budget.hops[-1]}",
                "method": "agg / wmmse_central",
                "ratio": ratios[-1],
            }
        )
    ax.axhline(1.0, color="black", linewidth=1, label="centralized WMMSE (100 iterations)")
    ax.set_xlabel("aggregation length K (exchanges)")
    ax.set_ylabel("sum rate relative to centralized WMMSE")
    ax.set_title(f"ad-hoc, m = {m}: hops and coherence")
    ax.set_xticks(list(budget.hops))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    figures = [folder / "hop_sweep"]
    plotting.save(fig, figures[0])
    tables = [write_csv(folder / "hop_sweep.csv", rows)]
    return Output(NAME, TITLE, figures, tables, headline=headline)
