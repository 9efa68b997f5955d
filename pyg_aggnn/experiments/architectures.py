r"""Architecture comparison on the WCGCN paper's benchmarks, and generalisation.

The Agg-GNN (decentralized, delayed), the selection GNN, the WCGCN message-passing GNN
(both centralized, current channel) and an MLP on the whole channel matrix are trained
on random networks of the Gaussian interference channel (``K`` links at 0 and 10 dB)
and of the D2D scenario with realistic path loss, as the WCGCN paper does: model-based
(the continuous power of :mod:`pyg_aggnn.nn.power_map` and the gradient of the rate),
sum rate. Left: the test sum rate in % of the centralized WMMSE (100 iterations) on the
same networks, baselines beside. Right: the same models on larger networks at fixed density, without
retraining (the MLP is tied to its input size and cannot follow).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import matplotlib.ticker

from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.evaluation.transference import at_size
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import MODELS, Context, Output, evaluate_methods, run_spec
from pyg_aggnn.experiments.scale_transfer import networks_per_size
from pyg_aggnn.wireless import D2D, GaussianIC

__all__ = ["run", "settings", "seeds_markdown"]

NAME = "architectures"
TITLE = "Agg-GNN vs Sel-GNN vs WCGCN vs MLP on Gaussian IC and D2D, and on larger networks"

K = 5
# Model-based training of the centralized models on dense D2D graphs costs seconds per
# step (WCGCN's max aggregation over all pairs): every model gets the sweep's number of
# steps on batches of a quarter of the budget's size.
BASELINES = ("wmmse_central", "wmmse", "equal", "random")


def settings(ctx: Context) -> list[tuple[str, object]]:
    """``[(label, scenario)]``: Gaussian IC sizes x SNRs, then D2D."""
    out = [
        (f"GIC K={m}, {snr:g} dB", GaussianIC(m, snr_db=snr))
        for m in ctx.budget.gaussian_links
        for snr in ctx.budget.snrs_db
    ]
    out.append((f"D2D m={ctx.budget.d2d_links}", D2D(ctx.budget.d2d_links)))
    return out


def _percent(results) -> dict[str, float]:
    reference = results["wmmse_central"].summary()["sum_rate"]
    return {name: 100 * r.summary()["sum_rate"] / reference for name, r in results.items()}


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate, write the figure and its CSV (module docstring)."""
    folder = ctx.folder(NAME)
    rows, bars, general = [], {}, {}
    for label, scenario in settings(ctx):
        m = scenario.num_links
        tag = label.replace(" ", "_").replace(",", "").replace("=", "")
        modules, runs = {}, {}
        for model in MODELS:
            spec = run_spec(
                ctx,
                f"arch_{tag}_{model}",
                model,
                scenario,
                K,
                network="random",
                mode="model_based",
                steps="sweep_steps",
                batch_size=max(1, ctx.budget.batch_size // 4),
            )
            runs[model] = ctx.train(spec)
            modules[model] = runs[model].load(ctx.device)
        results = evaluate_methods(
            ctx, modules, scenario, ctx.budget.test_size, K, baselines=BASELINES
        )
        percent = _percent(results)
        for row in summary_rows({label: results}):
            row.update(size=m, percent_of_wmmse_central=percent[row["method"]], kind="test")
            if row["method"] in runs:  # the step of a stall warning; empty: none
                row["stalled_at"] = runs[row["method"]].stalled_at
            rows.append(row)
        bars[label] = percent
        scalable = {name: module for name, module in modules.items() if name != "mlp"}
        for factor in ctx.budget.generalisation[1:]:
            size = int(round(m * factor))
            found = evaluate_methods(
                ctx,
                scalable,
                at_size(scenario, size),
                networks_per_size(ctx, size),
                K,
                baselines=BASELINES,
            )
            percent = _percent(found)
            for row in summary_rows({f"{label} -> m'={size}": found}):
                row.update(
                    size=size,
                    percent_of_wmmse_central=percent[row["method"]],
                    kind="generalisation",
                )
                rows.append(row)
            general.setdefault(label, {})[factor] = percent
        general.setdefault(label, {})[1] = {k: v for k, v in bars[label].items() if k != "mlp"}
    fig, axes = plotting.figure(height=4.6, ncols=2)
    _draw_bars(axes[0], bars)
    _draw_generalisation(axes[1], general)
    figures = [folder / "architectures"]
    plotting.save(fig, figures[0])
    tables = [write_csv(folder / "architectures.csv", rows)]
    headline = [r for r in rows if r["kind"] == "test" and r["method"] in MODELS]
    return Output(NAME, TITLE, figures, tables, headline=headline)


def _draw_bars(ax, bars: dict[str, dict[str, float]]) -> None:
    methods = [
        m for m in (*MODELS, "wmmse", "equal", "random") if any(m in b for b in bars.values())
    ]
    width = 0.8 / len(methods)
    for index, method in enumerate(methods):
        xs = [k + (index - (len(methods) - 1) / 2) * width for k in range(len(bars))]
        values = [b.get(method, float("nan")) for b in bars.values()]
        entry = plotting.style(method, index)
        ax.bar(xs, values, width=width, color=entry["color"], label=entry["label"])
    ax.axhline(100, color="black", linewidth=1, label="centralized WMMSE")
    ax.set_xticks(range(len(bars)))
    ax.set_xticklabels(list(bars), fontsize=8)
    ax.set_ylim(0, 135)
    ax.set_ylabel("sum rate, % of centralized WMMSE")
    ax.set_title("test networks of the training size")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=3, loc="upper center")


def _draw_generalisation(ax, general: dict[str, dict[float, dict[str, float]]]) -> None:
    dashes = ["-", "--", ":", "-."]
    for s_index, (label, points) in enumerate(general.items()):
        factors = sorted(points)
        for index, method in enumerate(m for m in MODELS if m != "mlp"):
            entry = plotting.style(method, index)
            ax.plot(
                factors,
                [points[f].get(method, float("nan")) for f in factors],
                marker="o",
                color=entry["color"],
                linestyle=dashes[s_index % len(dashes)],
                label=f"{entry['label'].split(' (')[0]}, {label}",
            )
    ax.axhline(100, color="black", linewidth=1)
    ax.set_xscale("log")
    factors = sorted({f for points in general.values() for f in points})
    ax.set_xticks(factors, [f"{f:g}x" for f in factors])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("test size / training size (fixed density)")
    ax.set_ylabel("sum rate, % of centralized WMMSE")
    ax.set_title("generalisation to larger networks (no retraining)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.14))


#: Columns of :func:`seeds_markdown`: the models, then the references.
SEED_COLUMNS = (*MODELS, "wmmse", "equal")


def seeds_markdown(tables: Sequence[str | Path]) -> str:
    """The comparison over training seeds, as a Markdown table: sum rate in % of the
    centralized WMMSE, ``mean (min-max)`` over the ``architectures.csv`` of each seed
    (``pyg-aggnn reproduce architectures --seed S --out DIR``), and the number of the
    models' runs whose stall detector warned (``?`` where a table predates the record).
    """
    if not tables:
        raise ValueError("tables must name at least one architectures.csv, got none")
    values: dict[str, dict[str, list[float]]] = {}
    stalls: dict[str, list[int | None]] = {}
    for table in tables:
        with Path(table).open(newline="") as handle:
            for row in csv.DictReader(handle):
                label = row["setting"]
                percent = float(row["percent_of_wmmse_central"])
                values.setdefault(label, {}).setdefault(row["method"], []).append(percent)
                if row["kind"] == "test" and row["method"] in MODELS:
                    known = "stalled_at" in row
                    stalled = known and row["stalled_at"] not in ("", None)
                    stalls.setdefault(label, []).append(int(stalled) if known else None)
    header = ["setting", "seeds", *SEED_COLUMNS, "stalled runs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, methods in values.items():
        counts = {len(v) for v in methods.values()}
        cells = [label.replace("->", "→"), str(max(counts))]
        for method in SEED_COLUMNS:
            found = methods.get(method)
            cells.append(
                "–"
                if not found
                else f"{sum(found) / len(found):.1f} ({min(found):.1f}-{max(found):.1f})"
            )
        flags = stalls.get(label)
        cells.append(
            "–" if flags is None else "?" if None in flags else f"{sum(flags)} of {len(flags)}"
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
