r"""Training curves, synchronous ad-hoc networks (the papers' Fig. 3 and 4).

An Agg-GNN (decentralized, ``K = 5`` exchanges at ``m = 25``, ``K = 6`` at ``m = 50``)
and a selection GNN (centralized) are trained model-free on one fixed network each;
their validation sum rate over training is drawn against the distributed WMMSE with
the same number of exchanges, equal power and random full power. The final models are
then tested on held-out slots of the same network.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods, run_spec
from pyg_aggnn.experiments.runs import Run
from pyg_aggnn.wireless import AdHoc

__all__ = ["run", "adhoc_run", "adhoc_hops"]

NAME = "training-curves"
TITLE = "Training curves, ad-hoc m = 25 (K = 5) and m = 50 (K = 6), vs baselines (Fig. 3, 4)"


def adhoc_hops(ctx: Context, num_links: int) -> int:
    """The papers' exchanges: 5 hops for the smaller network, 6 for the larger."""
    return 5 if num_links == ctx.budget.adhoc_sizes[0] else 6


def adhoc_run(ctx: Context, num_links: int, model: str = "agg") -> Run:
    """The papers' synchronous ad-hoc run of ``model`` (shared by several experiments)."""
    K = adhoc_hops(ctx, num_links)
    spec = run_spec(
        ctx,
        f"adhoc_m{num_links}_{model}_K{K}",
        model,
        AdHoc(num_links),
        K,
        steps="steps" if model == "agg" else "slow_steps",
    )
    return ctx.train(spec)


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    fig, axes = plotting.figure(ncols=2)
    curve_rows, final = [], {}
    for ax, m in zip(axes, ctx.budget.adhoc_sizes):
        runs = {model: adhoc_run(ctx, m, model) for model in ("agg", "sel")}
        K = adhoc_hops(ctx, m)
        plotting.draw_training(
            ax, {k: r.curve for k, r in runs.items()}, f"ad-hoc, m = {m}, K = {K}"
        )
        for model, trained in runs.items():
            curve_rows += [{"m": m, "model": model, **row} for row in trained.curve]
        final[f"m={m}"] = evaluate_methods(
            ctx,
            {k: r.load(ctx.device) for k, r in runs.items()},
            AdHoc(m),
            ctx.budget.test_size,
            K,
            network="fixed",
        )
    figures = [folder / "training_curves"]
    plotting.save(fig, figures[0])
    rows = summary_rows(final)
    tables = [
        write_csv(folder / "training_curves.csv", curve_rows),
        write_csv(folder / "final_test.csv", rows),
    ]
    return Output(
        NAME,
        TITLE,
        figures,
        tables,
        headline=rows,
        notes="Final test: held-out episodes of the training network.",
    )
