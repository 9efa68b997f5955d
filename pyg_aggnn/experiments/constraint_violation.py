r"""Constraint violation over training (the papers' Fig. 5).

The Agg-GNN runs of the training curves (ad-hoc ``m = 25`` and ``m = 50``) reused:
their relative budget excess :math:`\overline{\mathbf{1}^T\mathbf{p}} / P_{\max} - 1`
on the training batches (moving average) and on the validation episodes, over
training. At or below zero the average power constraint is met.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output
from pyg_aggnn.experiments.training_curves import adhoc_run

__all__ = ["run", "moving_average"]

NAME = "constraint-violation"
TITLE = "Budget violation of the Agg-GNN during training, m = 25 and m = 50 (Fig. 5)"


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over at most ``window`` points."""
    out, total = [], 0.0
    for k, value in enumerate(values):
        total += value
        if k >= window:
            total -= values[k - window]
        out.append(total / min(k + 1, window))
    return out


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    fig, axes = plotting.figure()
    ax = axes[0]
    rows, headline = [], []
    for index, m in enumerate(ctx.budget.adhoc_sizes):
        trained = adhoc_run(ctx, m, "agg")
        color = f"C{index}"
        train = [r for r in trained.curve if r.get("split") == "train" and "violation" in r]
        steps = [r["step"] for r in train]
        smooth = moving_average([r["violation"] for r in train], window=10)
        ax.plot(steps, smooth, color=color, alpha=0.6, label=f"m = {m}, training batches (avg.)")
        val_steps, val = plotting.validation_points(trained.curve, "violation")
        ax.plot(val_steps, val, color=color, marker="o", linewidth=2, label=f"m = {m}, validation")
        rows += [
            {"m": m, "split": "train", "step": s, "violation": v} for s, v in zip(steps, smooth)
        ]
        rows += [
            {"m": m, "split": "val", "step": s, "violation": v} for s, v in zip(val_steps, val)
        ]
        if val:
            headline.append({"setting": f"m={m}", "method": "agg", "violation": val[-1]})
    ax.axhline(0.0, color="black", linewidth=1, label="budget met (0)")
    ax.set_xlabel("training step (policy updates)")
    ax.set_ylabel(r"violation $\overline{\mathbf{1}^T p}\,/\,P_{\max} - 1$")
    ax.set_title("Agg-GNN average power constraint, ad-hoc")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figures = [folder / "constraint_violation"]
    plotting.save(fig, figures[0])
    tables = [write_csv(folder / "constraint_violation.csv", rows)]
    return Output(NAME, TITLE, figures, tables, headline=headline)
