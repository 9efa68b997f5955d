r"""Final performance against the aggregation length ``K`` for several ``delta``
(the papers' Fig. 6).

For both ad-hoc sizes (the papers' ``m = 25`` and ``m = 50``, one panel each), every
fading innovation factor :math:`\delta` and every ``K``, an Agg-GNN is trained on the
fixed network and tested on held-out episodes of it. Its sum rate is shown relative to
the centralized WMMSE on the same episodes (a reference that does not depend on ``K``),
beside the decentralized WMMSE with the same ``K`` exchanges and a fixed price
(``wmmse_local``) and the same with a global price (``wmmse``).

What delayed information is worth on these networks is measured without any learner in
``stale_channel.csv``: the sum rate of the centralized WMMSE allocation computed on the
channel of ``k`` slots before, applied now, relative to the one computed on the current
channel (:func:`stale_channel_ratio`), for every ``delta`` (and ``delta = 1``, fading
i.i.d. over slots) and every lag ``k`` in the sweep's ``K``. A ratio near 1 for every
``delta`` says that the layout, not the fading, decides the allocation, so the age of
the information, which is what ``delta`` changes, has little to change.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Batch

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import WMMSE
from pyg_aggnn.evaluation.episodes import simulate_episodes
from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output, evaluate_methods, run_spec
from pyg_aggnn.wireless import AdHoc

__all__ = ["run", "stale_channel_ratio"]

#: Test episodes of the stale-channel study (no training: WMMSE only).
STALE_EPISODES = 64

NAME = "hop-sweep"
TITLE = "Agg-GNN sum rate relative to centralized WMMSE vs aggregation length K, per delta (Fig. 6)"


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    budget = ctx.budget
    rows, headline = [], []
    fig, axes = plotting.figure(ncols=len(budget.adhoc_sizes))
    for ax, m in zip(axes, budget.adhoc_sizes):
        for index, delta in enumerate(budget.deltas):
            ratios, baseline_ratios = _sweep(ctx, m, delta, rows)
            color = f"C{index}"
            ax.plot(
                budget.hops,
                ratios,
                color=color,
                marker="o",
                linewidth=2,
                label=rf"Agg-GNN, $\delta$ = {delta:g}",
            )
            for baseline, marker, style in (("wmmse_local", "x", "--"), ("wmmse", "+", ":")):
                ax.plot(
                    budget.hops,
                    baseline_ratios[baseline],
                    color=color,
                    linestyle=style,
                    marker=marker,
                    label=rf"{plotting.label(baseline)}, K exchanges, $\delta$ = {delta:g}",
                )
            headline.append(
                {
                    "setting": f"m={m}, delta={delta:g}, K={budget.hops[-1]}",
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
        ax.legend(fontsize=6)
    figures = [folder / "hop_sweep"]
    plotting.save(fig, figures[0])
    stale = [
        {"m": m, "delta": delta, "lag": lag, "ratio": stale_channel_ratio(ctx, m, delta, lag)}
        for m in budget.adhoc_sizes
        for delta in dict.fromkeys([*budget.deltas, 1.0])
        for lag in budget.hops
    ]
    tables = [
        write_csv(folder / "hop_sweep.csv", rows),
        write_csv(folder / "stale_channel.csv", stale),
    ]
    return Output(NAME, TITLE, figures, tables, headline=headline)


def stale_channel_ratio(ctx: Context, m: int, delta: float, lag: int) -> float:
    """Sum rate of the centralized WMMSE (100 iterations, held to the budget) decided on
    the channel of ``lag`` slots before, over the same WMMSE decided on the current
    channel, on :data:`STALE_EPISODES` test episodes of the fixed ``m``-link network of
    ``delta`` (the slots ``lag, ..., lag + 9`` of every episode).
    """
    lag = check_positive_int("lag", lag)
    episodes = simulate_episodes(AdHoc(m, delta=delta), STALE_EPISODES, lag + 10, ctx.seed, "fixed")
    batch = Batch.from_data_list(episodes).to(ctx.device)
    slots = torch.arange(batch.num_slots, device=batch.x.device)
    power = WMMSE("centralized", budget="scale").decide(batch, slots, None)  # [N, T]
    stale = torch.cat([power[:, :lag], power[:, :-lag]], dim=1)  # slot t gets t - lag's
    weight = batch.link_weight[:, None]
    fresh_rate = (batch.rates(power) * weight)[:, lag:].sum()
    stale_rate = (batch.rates(stale) * weight)[:, lag:].sum()
    return float(stale_rate / fresh_rate)


def _sweep(ctx: Context, m: int, delta: float, rows: list) -> tuple[list, dict]:
    """Train and test the Agg-GNN of every ``K`` on the ``m``-link network of ``delta``;
    append the CSV rows, return its ratios and the WMMSEs' to the centralized WMMSE.
    """
    budget = ctx.budget
    scenario = AdHoc(m, delta=delta)
    ratios, baseline_ratios = [], {"wmmse_local": [], "wmmse": []}
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
            baselines=("wmmse_local", "wmmse", "wmmse_central", "equal", "random"),
            num_slots=max(10, max(budget.hops) + 5),
            warmup_slots=max(budget.hops) - 1,
        )
        table = summary_rows({f"m={m}, delta={delta:g}, K={K}": results})
        reference = results["wmmse_central"].summary()["sum_rate"]
        for row in table:
            row.update(m=m, delta=delta, K=K, relative_to_wmmse_central=row["sum_rate"] / reference)
        rows += table
        ratios.append(results["agg"].summary()["sum_rate"] / reference)
        for baseline, values in baseline_ratios.items():
            values.append(results[baseline].summary()["sum_rate"] / reference)
    return ratios, baseline_ratios
