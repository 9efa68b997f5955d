r"""Beamforming on the MISO D2D network: the WCGCN paper's three studies (Section V-C).

A :class:`~pyg_aggnn.nn.WCGCNBeamforming` is trained model-based through the MISO rate
on random networks of ``K = 50`` links with ``N_t = 2`` transmit antennas
(:class:`~pyg_aggnn.wireless.MISOD2D`: 1,000 m field, Tx-Rx distance in ``[2, 65]`` m,
weights :math:`w_k \sim U[0, 1]`), then evaluated without retraining against the
beamforming baselines (:func:`~pyg_aggnn.baselines.beamforming_baselines`), every
number in % of the centralized WMMSE beamforming on the same networks:

1. **link distances** ``(d_min, d_max)`` in {(2, 65), (10, 50), (30, 70), (30, 30)} m,
   ``K = 50`` (the paper's budget trains one model per setting; ``quick`` and ``tiny``
   evaluate the (2, 65) model in all four);
2. **larger networks at the training density**: ``K`` = 200 ... 1,000 links in a field
   grown as :math:`1000 \sqrt{K / 50}` m (2,000 ... 4,472 m);
3. **denser networks**: ``K`` = 100 ... 500 links in the same 1,000 m field.

Each study writes a CSV and a figure.
"""

from __future__ import annotations

import math

from pyg_aggnn.baselines import beamforming_baselines
from pyg_aggnn.data.config import scenario_to_config
from pyg_aggnn.evaluation.allocators import BaselineAllocator, PolicyAllocator
from pyg_aggnn.evaluation.episodes import simulate_episodes
from pyg_aggnn.evaluation.evaluator import evaluate
from pyg_aggnn.evaluation.report import summary_rows, write_csv
from pyg_aggnn.evaluation.transference import at_size
from pyg_aggnn.experiments import plotting
from pyg_aggnn.experiments.common import Context, Output
from pyg_aggnn.experiments.runs import RunSpec
from pyg_aggnn.wireless import MISOD2D

__all__ = ["run", "SETTINGS", "DISTANCES", "scenario"]

NAME = "beamforming"
TITLE = "WCGCN beamforming (K = 50, N_t = 2) vs WMMSE: link distances, larger and denser networks"

ANTENNAS = 2
#: Exchanges of the local WMMSE beamforming.
EXCHANGES = 5
#: The paper's link-distance settings ``(d_min, d_max)`` in metres.
DISTANCES = ((2.0, 65.0), (10.0, 50.0), (30.0, 70.0), (30.0, 30.0))
#: Per budget: training size, the sizes of the studies and how many links to evaluate.
SETTINGS = {
    "tiny": dict(links=6, distances=DISTANCES[::3], sizes=(12,), dense=(12,), eval_links=24),
    "quick": dict(
        links=50,
        distances=DISTANCES,
        sizes=(200, 500, 1000),
        dense=(100, 300, 500),
        eval_links=4000,
    ),
    "paper": dict(
        links=50,
        distances=DISTANCES,
        sizes=(200, 400, 600, 800, 1000),
        dense=(100, 200, 300, 400, 500),
        eval_links=20_000,
    ),
}
METHODS = ("wcgcn", "wmmse_local", "mrt")
FIELD_M = 1000.0


def scenario(num_links: int, distances: tuple[float, float] = DISTANCES[0]) -> MISOD2D:
    """The training network of ``num_links`` links at the paper's density (50 links per
    1,000 m x 1,000 m), with link distances ``distances``.
    """
    return MISOD2D(
        num_links,
        num_antennas=ANTENNAS,
        field_side_m=FIELD_M * math.sqrt(num_links / 50),
        min_link_distance_m=distances[0],
        max_link_distance_m=distances[1],
        link_weights="uniform",
    )


def _spec(ctx: Context, train: MISOD2D, tag: str) -> RunSpec:
    budget = ctx.budget
    return RunSpec(
        name=f"beamforming_{tag}",
        policy={"class_path": "pyg_aggnn.nn.WCGCNBeamforming", "init_args": {"num_antennas": 2}},
        scenario=scenario_to_config(train),
        steps=budget.sweep_steps,
        eval_every=budget.eval_every,
        batch_size=budget.batch_size,
        val_size=budget.val_size,
        num_slots=1,
        network="random",
        module={"mode": "model_based", "num_exchanges": EXCHANGES},
        seed=ctx.seed,
        accelerator=budget.accelerator,
    )


def _evaluate(ctx: Context, module, test: MISOD2D, count: int) -> dict[str, dict]:
    """Sum rates of the model and the baselines on ``count`` new networks of ``test``,
    each row with its % of the centralized WMMSE.
    """
    episodes = simulate_episodes(test, count, num_slots=1)
    methods = {"wcgcn": PolicyAllocator(module)}
    suite = beamforming_baselines(EXCHANGES)
    methods.update({name: BaselineAllocator(b) for name, b in suite.items()})
    results = evaluate(methods, episodes, device=ctx.device)
    reference = results["wmmse"].summary()["sum_rate"]
    rows = {}
    for row in summary_rows({"": results}):
        row.pop("setting")
        row["percent_of_wmmse"] = 100 * row["sum_rate"] / reference
        rows[row["method"]] = row
    return rows


def _networks(ctx: Context, size: int) -> int:
    return max(2, min(ctx.budget.test_size, SETTINGS[ctx.budget.name]["eval_links"] // size))


def run(ctx: Context) -> Output:
    """Train what is missing, evaluate the three studies, write their figures and CSVs."""
    folder = ctx.folder(NAME)
    setting = SETTINGS[ctx.budget.name]
    links = setting["links"]
    per_setting = ctx.budget.name == "paper"
    base = ctx.train(_spec(ctx, scenario(links), f"k{links}")).load(ctx.device)

    distance_rows = []
    for d in setting["distances"]:
        label = f"({d[0]:g}, {d[1]:g}) m"
        train = scenario(links, d)
        module = base
        if per_setting and d != DISTANCES[0]:
            module = ctx.train(_spec(ctx, train, f"k{links}_d{d[0]:g}_{d[1]:g}")).load(ctx.device)
        ctx.log(f"[{NAME}] link distances {label}")
        rows = _evaluate(ctx, module, train, _networks(ctx, links))
        for row in rows.values():
            trained = label if module is not base or d == DISTANCES[0] else "(2, 65) m"
            row.update(setting=label, size=links, trained_on=trained)
            distance_rows.append(row)

    size_rows = []
    for size in (links, *setting["sizes"]):
        test = at_size(scenario(links), size)
        ctx.log(f"[{NAME}] K = {size} at the training density ({test.field_side_m:.0f} m)")
        for row in _evaluate(ctx, base, test, _networks(ctx, size)).values():
            row.update(setting=f"K={size}", size=size, field_side_m=test.field_side_m)
            size_rows.append(row)

    dense_rows = []
    for size in (links, *setting["dense"]):
        side = scenario(links).field_side_m
        test = MISOD2D(size, num_antennas=ANTENNAS, field_side_m=side, link_weights="uniform")
        ctx.log(f"[{NAME}] K = {size} in the {side:.0f} m field")
        for row in _evaluate(ctx, base, test, _networks(ctx, size)).values():
            row.update(setting=f"K={size}, {side:.0f} m", size=size, field_side_m=side)
            dense_rows.append(row)

    figures = [folder / "beamforming_distances", folder / "beamforming_sizes"]
    figures.append(folder / "beamforming_density")
    _bars(distance_rows, figures[0])
    _curve(size_rows, figures[1], "links K (field grown at the training density)")
    _curve(dense_rows, figures[2], f"links K in the {scenario(links).field_side_m:.0f} m field")
    tables = [
        write_csv(folder / "beamforming_distances.csv", distance_rows),
        write_csv(folder / "beamforming_sizes.csv", size_rows),
        write_csv(folder / "beamforming_density.csv", dense_rows),
    ]
    headline = [r for r in distance_rows if r["method"] == "wcgcn"]
    headline = [{**r, "percent_of_wmmse_central": r["percent_of_wmmse"]} for r in headline]
    notes = (
        f"WCGCN trained on K = {links}, N_t = {ANTENNAS}, (2, 65) m"
        + (" (and on every distance setting)" if per_setting else "")
        + "; % of centralized WMMSE beamforming on the same networks."
    )
    return Output(NAME, TITLE, figures, tables, headline=headline, notes=notes)


def _label(method: str) -> str:
    if method == "wmmse_local":
        return f"WMMSE beamforming (local, {EXCHANGES} exchanges)"
    return {"wcgcn": "WCGCN (centralized)"}.get(method, plotting.label(method))


def _bars(rows: list[dict], stem) -> None:
    fig, (ax,) = plotting.figure(height=4.2)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    width = 0.8 / len(METHODS)
    for index, method in enumerate(METHODS):
        values = {r["setting"]: r["percent_of_wmmse"] for r in rows if r["method"] == method}
        xs = [k + (index - (len(METHODS) - 1) / 2) * width for k in range(len(settings))]
        color = plotting.style(method, index)["color"]
        ax.bar(xs, [values[s] for s in settings], width=width, color=color, label=_label(method))
    ax.axhline(100, color="black", linewidth=1, label="WMMSE beamforming (centralized)")
    ax.set_xticks(range(len(settings)), settings)
    ax.set_xlabel("link distance (d_min, d_max)")
    ax.set_ylabel("weighted sum rate, % of WMMSE")
    ax.set_ylim(0, 120)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    plotting.save(fig, stem)


def _curve(rows: list[dict], stem, xlabel: str) -> None:
    fig, (ax,) = plotting.figure(height=4.2)
    for index, method in enumerate(METHODS):
        points = sorted((r["size"], r["percent_of_wmmse"]) for r in rows if r["method"] == method)
        entry = plotting.style(method, index)
        ax.plot(*zip(*points), marker="o", color=entry["color"], label=_label(method))
    ax.axhline(100, color="black", linewidth=1, label="WMMSE beamforming (centralized)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("weighted sum rate, % of WMMSE")
    ax.set_ylim(0, 120)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plotting.save(fig, stem)
