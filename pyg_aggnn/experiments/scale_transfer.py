r"""Transference across scale at fixed density (the papers' Fig. 10 and 11).

The Agg-GNNs trained on one network of ``m = 25`` and ``m = 50`` links (the training
curves' runs) are evaluated on new random networks of ``m'`` links at the training
density: transmitters in :math:`[-\sqrt{m m'}, \sqrt{m m'}]^2`, receivers within
``m / 4`` of their transmitter (:func:`~pyg_aggnn.evaluation.at_size`). The figure
shows the sum rate per link (the sum rate grows with ``m'``) with 95% confidence
intervals over networks.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.evaluation.transference import at_size
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods
from pyg_aggnn.experiments.training_curves import adhoc_hops, adhoc_run
from pyg_aggnn.wireless import AdHoc

__all__ = ["run", "networks_per_size"]

NAME = "scale-transfer"
TITLE = "Agg-GNN trained at m = 25 / 50 on larger networks at fixed density (Fig. 10, 11)"


def networks_per_size(ctx: Context, size: int) -> int:
    """Networks evaluated at ``size`` links: about ``scale_links`` links in all."""
    return max(2, min(ctx.budget.test_size, ctx.budget.scale_links // size))


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    fig, axes = plotting.figure(ncols=2)
    rows, headline = [], []
    for ax, m in zip(axes, ctx.budget.adhoc_sizes):
        module = adhoc_run(ctx, m, "agg").load(ctx.device)
        K = adhoc_hops(ctx, m)
        curves: dict[str, list] = {}
        for size in ctx.budget.scale_sizes:
            ctx.log(f"[{NAME}] trained at m={m}, evaluating m'={size}")
            results = evaluate_methods(
                ctx, {"agg": module}, at_size(AdHoc(m), size), networks_per_size(ctx, size), K
            )
            table = summary_rows({f"m={m} -> m'={size}": results})
            for row in table:
                row.update(trained_m=m, m=size, rate_per_link=row["sum_rate"] / size)
                curves.setdefault(row["method"], []).append(row)
            rows += table
        for index, (method, points) in enumerate(curves.items()):
            sizes = [p["m"] for p in points]
            mean = [p["sum_rate"] / p["m"] for p in points]
            low = [(p["sum_rate"] - p["sum_rate_ci_low"]) / p["m"] for p in points]
            high = [(p["sum_rate_ci_high"] - p["sum_rate"]) / p["m"] for p in points]
            ax.errorbar(
                sizes,
                mean,
                yerr=[low, high],
                marker="o",
                markersize=4,
                capsize=3,
                linewidth=2 if method == "agg" else 1.3,
                **plotting.style(method, index),
            )
        headline += [p for p in curves.get("agg", []) if p["m"] == max(ctx.budget.scale_sizes)]
        ax.set_xscale("log")
        ax.set_xlabel("links m' of the test networks (fixed density)")
        ax.set_ylabel("sum rate per link [nats/slot]")
        ax.set_title(f"trained on one network of m = {m}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    figures = [folder / "scale_transfer"]
    plotting.save(fig, figures[0])
    tables = [write_csv(folder / "scale_transfer.csv", rows)]
    return Output(NAME, TITLE, figures, tables, headline=headline)
