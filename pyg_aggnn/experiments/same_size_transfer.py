r"""Transference to new networks of the same size (the papers' Fig. 8 and 9).

The Agg-GNNs trained on one fixed network (``m = 25`` and ``m = 50``, the training
curves' runs) are evaluated, without retraining, on many new random networks of the
same size and density; the histograms show the distribution of the networks' sum rate
for the policy and every baseline on the same networks.
"""

from __future__ import annotations

import math

import torch

from pyg_aggnn.evaluation.report import network_rows, summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods
from pyg_aggnn.experiments.training_curves import adhoc_hops, adhoc_run
from pyg_aggnn.wireless import AdHoc

__all__ = ["run"]

BINS = 30

NAME = "same-size-transfer"
TITLE = "Agg-GNN on new random networks of the training size, histograms of sum rate (Fig. 8, 9)"


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    fig, axes = plotting.figure(ncols=2)
    results = {}
    for ax, m in zip(axes, ctx.budget.adhoc_sizes):
        trained = adhoc_run(ctx, m, "agg")
        K = adhoc_hops(ctx, m)
        found = evaluate_methods(
            ctx, {"agg": trained.load(ctx.device)}, AdHoc(m), ctx.budget.test_size, K
        )
        results[f"m={m}"] = found
        edges = _log_bins([r.per_network["sum_rate"] for r in found.values()])
        for index, (method, result) in enumerate(found.items()):
            entry = plotting.style(method, index)
            ax.hist(
                result.per_network["sum_rate"].tolist(),
                bins=edges,
                histtype="step",
                linewidth=2 if method == "agg" else 1.3,
                color=entry["color"],
                linestyle=entry["linestyle"],
                label=entry["label"],
            )
        ax.set_xscale("log")
        ax.set_xlabel(plotting.RATE_LABEL + " of a network (log scale)")
        ax.set_ylabel("number of networks")
        ax.set_title(f"new random networks, m = {m} (trained on one)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figures = [folder / "same_size_transfer"]
    plotting.save(fig, figures[0])
    rows = summary_rows(results)
    tables = [
        write_csv(folder / "summary.csv", rows),
        write_csv(folder / "networks.csv", network_rows(results)),
    ]
    return Output(NAME, TITLE, figures, tables, headline=rows)


def _log_bins(values: list[torch.Tensor]) -> list[float]:
    """Logarithmic bin edges over the positive values: a network's sum rate spans
    orders of magnitude (it is dominated by its few short links).
    """
    data = torch.cat([v.reshape(-1) for v in values])
    positive = data[data > 0]
    low = float(positive.min()) if positive.numel() else 1e-3
    high = max(float(data.max()), low * 10)
    return torch.logspace(math.log10(low * 0.999), math.log10(high * 1.001), BINS + 1).tolist()
