r"""Asynchronous ad-hoc network, ``m = 50``, Poisson(25) active nodes (the papers' Fig. 7).

At every slot one of 5 random active subsets (sizes ``Poisson(m / 2)``) wakes up; an
inactive node only receives and keeps its power. The Agg-GNN (``K = 5`` exchanges,
5-tap filters, as the asynchronous model of the papers) is trained model-free on one
fixed network; the papers' baselines update every ``m / lam = 2`` slots, awake or not,
and ``wmmse_local_awake`` decides, as the Agg-GNN does, only when its link is awake.
"""

from __future__ import annotations

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods, run_spec
from pyg_aggnn.wireless import AdHoc, RandomSubsets

__all__ = ["run"]

NAME = "asynchronous"
TITLE = "Asynchronous ad-hoc m = 50, Poisson(25) active nodes per slot, vs baselines (Fig. 7)"

K = 5
UPDATE_EVERY = 2  # m / lam


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    m = ctx.budget.adhoc_sizes[1]
    scenario = AdHoc(m, activation=RandomSubsets(lam=m / 2, num_subsets=5))
    spec = run_spec(
        ctx, f"adhoc_m{m}_async_agg_K{K}", "agg", scenario, K, update_every=UPDATE_EVERY
    )
    trained = ctx.train(spec)
    fig, axes = plotting.figure()
    plotting.draw_training(
        axes[0], {"agg": trained.curve}, f"asynchronous ad-hoc, m = {m}, Poisson({m / 2:g}) active"
    )
    figures = [folder / "asynchronous"]
    plotting.save(fig, figures[0])
    results = evaluate_methods(
        ctx,
        {"agg": trained.load(ctx.device)},
        scenario,
        ctx.budget.test_size,
        K,
        network="fixed",
        baselines=("wmmse", "wmmse_local", "wmmse_local_awake", "equal", "random"),
        update_every=UPDATE_EVERY,
    )
    rows = summary_rows({f"m={m}, async": results})
    curve = [{"model": "agg", **row} for row in trained.curve]
    tables = [
        write_csv(folder / "training_curve.csv", curve),
        write_csv(folder / "final_test.csv", rows),
    ]
    return Output(NAME, TITLE, figures, tables, headline=rows)
