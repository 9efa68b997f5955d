"""Quality of model-free primal-dual training against the baselines (the papers' Fig. 3, 4).

Trains the Agg-GNN and the centralized selection GNN beside it on the ad-hoc settings
m = 25 (K = 5, ``configs/default.yaml``, ``configs/selection_gnn_m25.yaml``) and m = 50
(K = 6, ``configs/adhoc_m50.yaml``, ``configs/selection_gnn_m50.yaml``), and the
Agg-GNN alone on the asynchronous m = 50 (``configs/adhoc_m50_async.yaml``) and cellular
(``configs/cellular.yaml``) settings, then evaluates
the final policy on the held-out test episodes next to the default baselines: the
decentralized WMMSE with the same number of exchanges and a fixed, calibrated price
(``wmmse_local``), the same with a global price found by bisection (``wmmse``), the
best on/off allocation (``binary``, centralized), equal power and random full power.
Prints, per run: the test sum rate of every allocation, the policy's ratio to each
baseline, its budget use (mean total power / P_max), the wall time of training, and
when the validation sum rate first came within 2 % of its final value; then, over the
seeds, a Markdown table of the mean [min, max] of each (``--json`` writes the rows
after every seed, ``--table`` prints the table again):

    pyg-aggnn bench train_quality                   # both settings, seed 0
    pyg-aggnn bench train_quality --seeds 0 1 2 --json docs/results/model_free_seeds.json
    pyg-aggnn bench train_quality --settings heads_m25 heads_m50  # the papers' heads
    pyg-aggnn bench train_quality --settings m25 --models SelectionGNN --seeds 0 1 2
    pyg-aggnn bench train_quality --settings async_m50 cellular --seeds 0 1 2

``--fit-args`` adds `pyg-aggnn fit` arguments to every model-free run and ``--label``
names the variant in the rows, e.g. the continuous policy:

    pyg-aggnn bench train_quality --settings m25 --models AggGNN --seeds 0 1 2 \
        --fit-args "--model.distribution truncated_normal" --label truncated_normal

``--rebaseline`` re-evaluates the priced baselines of a report's rows on their test
episodes (e.g. after a change of their calibration), checking that every other
baseline comes back equal, and rewrites the report:

    pyg-aggnn bench train_quality --rebaseline docs/results/model_free_seeds.json

``--suite model_based`` instead trains every shipped model-based config (WCGCN and MLP,
``configs/wcgcn/*.yaml`` and ``configs/mlp_gaussian_ic_k10.yaml``) at its own default
budget on each seed and reports the test sum rate in % of the centralized WMMSE (100
iterations): per seed, then mean, min and max, with the stall detector's verdict and
the wall time; ``--json`` writes the rows:

    pyg-aggnn bench train_quality --suite model_based --seeds 0 1 2 3 --json out.json
    pyg-aggnn bench train_quality --suite model_based --configs wcgcn/gaussian_ic_k10_0db
    pyg-aggnn bench train_quality --table out.json          # the table again
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch
from lightning.pytorch import Callback

from lightning_modules.callbacks import StallDetector
from lightning_modules.cli import AggGNNCLI
from pyg_aggnn.baselines.suite import BASELINES, PRICED_BASELINES

#: The shipped configs, read from the working directory (a checkout of the repository).
CONFIGS = Path("configs")
SETTINGS = {
    "m25": {
        "AggGNN": ["--config", str(CONFIGS / "default.yaml")],
        "SelectionGNN": ["--config", str(CONFIGS / "selection_gnn_m25.yaml")],
    },
    "m50": {
        "AggGNN": ["--config", str(CONFIGS / "adhoc_m50.yaml")],
        "SelectionGNN": ["--config", str(CONFIGS / "selection_gnn_m50.yaml")],
    },
    # the papers' own heads (10 layers of 1 feature, 10 taps; the Sel-GNN batch-normalised)
    "heads_m25": {
        "AggGNN": ["--config", str(CONFIGS / "paper_heads" / "adhoc_m25.yaml")],
        "SelectionGNN": ["--config", str(CONFIGS / "paper_heads" / "selection_adhoc_m25.yaml")],
    },
    "heads_m50": {
        "AggGNN": ["--config", str(CONFIGS / "paper_heads" / "adhoc_m50.yaml")],
        "SelectionGNN": ["--config", str(CONFIGS / "paper_heads" / "selection_adhoc_m50.yaml")],
    },
    # the papers' other two settings, the Agg-GNN only
    "async_m50": {"AggGNN": ["--config", str(CONFIGS / "adhoc_m50_async.yaml")]},
    "cellular": {"AggGNN": ["--config", str(CONFIGS / "cellular.yaml")]},
}

#: The model-free policies of every setting.
MODELS = ("AggGNN", "SelectionGNN")

MODEL_BASED = [
    "wcgcn/gaussian_ic_k10_0db",
    "wcgcn/gaussian_ic_k10_10db",
    "mlp_gaussian_ic_k10_0db",
    "mlp_gaussian_ic_k10",
    "wcgcn/gaussian_ic_k30_0db",
    "wcgcn/gaussian_ic_k30_10db",
    "wcgcn/gaussian_ic_k50_0db",
    "wcgcn/gaussian_ic_k50_10db",
    "wcgcn/d2d_m50",
]


class Timeline(Callback):
    """Wall time and validation sum rate at every validation."""

    def __init__(self):
        self.start = time.perf_counter()
        self.points: list[tuple[int, float, float]] = []

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            value = float(trainer.callback_metrics["val/sum_rate"])
            self.points.append((trainer.global_step, time.perf_counter() - self.start, value))


def _cli(args: list[str], seed: int, root: Path) -> AggGNNCLI:
    """The CLI of one config on one seed, one thread, under ``root``, not yet run."""
    argv = [*args, "--seed_everything", str(seed), "--model.seed", str(seed)]
    argv += ["--trainer.default_root_dir", str(root), "--trainer.enable_progress_bar", "false"]
    argv += ["--torch_threads", "1"]
    return AggGNNCLI(args=argv, run=False)


def run(name: str, args: list[str], seed: int, root: Path) -> dict:
    """Train one config on one seed, then test it: metrics, wall time, stall verdict."""
    timeline = Timeline()
    cli = _cli(args, seed, root)
    cli.trainer.callbacks.append(timeline)
    start = time.perf_counter()
    cli.trainer.fit(cli.model, cli.datamodule)
    seconds = time.perf_counter() - start
    cli.trainer.test(cli.model, cli.datamodule, verbose=False)
    metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    final = timeline.points[-1][2]
    reached = next((t for _, t, v in timeline.points if v >= 0.98 * final), float("nan"))
    detector = next((c for c in cli.trainer.callbacks if isinstance(c, StallDetector)), None)
    return {
        "name": name,
        "seconds": seconds,
        "reached": reached,
        "metrics": metrics,
        "steps": cli.trainer.global_step,
        "stalled_at": None if detector is None else detector.stalled_at,
    }


def baseline_metrics(args: list[str], seed: int, root: Path) -> dict[str, float]:
    """The test metrics of a config on one seed without training: the baselines' numbers
    of :func:`run`'s test, on the same episodes (the policy's are those of its
    initialisation and are not used).
    """
    cli = _cli(args, seed, root)
    cli.trainer.test(cli.model, cli.datamodule, verbose=False)
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items()}


#: The baselines, longest name first (``wmmse_local_awake`` before ``wmmse``).
_LONGEST_FIRST = sorted(BASELINES, key=len, reverse=True)


def _baseline_of(key: str) -> str | None:
    """The baseline a ``test/<metric>_<baseline>`` key belongs to (``None``: the policy's)."""
    if not key.startswith("test/"):
        return None
    return next((b for b in _LONGEST_FIRST if key.endswith(f"_{b}")), None)


def rebaseline(rows: list[dict], root: Path, atol: float = 1e-6) -> list[dict]:
    """Re-evaluate the priced baselines (:data:`PRICED_BASELINES`) of every row on its
    setting's test episodes, e.g. after a change of their calibration, keeping the
    policy's numbers. The other baselines are evaluated too and must come back equal
    (within ``atol``, relative): the proof that the episodes and scored slots are the
    row's; a row whose model is not one of its setting's shipped configs, or whose
    other baselines differ, raises a ``ValueError`` naming it.
    """
    fresh: dict[tuple, dict[str, float]] = {}
    for row in rows:
        model = row["name"].split(",")[0]
        configs = SETTINGS.get(row["setting"], {})
        if model not in configs:
            raise ValueError(
                f"row {row['setting']!r}/{row['name']!r}: its model {model!r} is not one "
                f"of the setting's configs {list(configs)}"
            )
        key = (row["setting"], model, row["seed"])
        if key not in fresh:
            fresh[key] = baseline_metrics(configs[model], row["seed"], root / row["setting"])
        new = fresh[key]
        for name, value in new.items():
            baseline = _baseline_of(name)
            if baseline is None or baseline in PRICED_BASELINES:
                continue
            old = row["metrics"].get(name)
            if old is None or abs(old - value) > atol * max(1.0, abs(old)):
                raise ValueError(
                    f"row {row['setting']!r}/{row['name']!r} seed {row['seed']}: {name} is "
                    f"{value} on re-evaluation, {old} in the row; not the row's episodes"
                )
        row["metrics"].update({k: v for k, v in new.items() if _baseline_of(k) in PRICED_BASELINES})
    return rows


def model_based(configs: list[str], seeds: list[int], root: Path, out: str | None) -> None:
    """Every model-based config on every seed, in % of the centralized WMMSE."""
    rows = []
    for config in configs:
        percents = []
        for seed in seeds:
            result = run(config, ["--config", str(CONFIGS / f"{config}.yaml")], seed, root)
            m = result["metrics"]
            percent = 100 * m["test/sum_rate"] / m["test/sum_rate_wmmse"]
            percents.append(percent)
            stall = "none" if result["stalled_at"] is None else f"at step {result['stalled_at']}"
            print(
                f"{config:<30} seed {seed}: {percent:6.1f} % of WMMSE "
                f"({m['test/sum_rate']:.4f} / {m['test/sum_rate_wmmse']:.4f}), "
                f"{result['steps']} steps in {result['seconds']:.0f} s, stall: {stall}",
                flush=True,
            )
            rows.append({"config": config, "seed": seed, "percent_of_wmmse": percent, **result})
            if out:  # after every run, so that an interrupted run keeps its rows
                Path(out).write_text(json.dumps(rows, indent=1))
        print(
            f"{config:<30} mean {statistics.mean(percents):.1f} %, min {min(percents):.1f} %, "
            f"max {max(percents):.1f} % over seeds {seeds}",
            flush=True,
        )
    print(markdown(rows))


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table: one line per config, % of WMMSE over the seeds."""
    lines = [
        "| config | seeds | mean | min | max | stalled runs | training per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for config in dict.fromkeys(row["config"] for row in rows):
        runs = [row for row in rows if row["config"] == config]
        values = [row["percent_of_wmmse"] for row in runs]
        stalled = sum(row["stalled_at"] is not None for row in runs)
        seconds = statistics.median(row["seconds"] for row in runs)
        lines.append(
            f"| `{config}` | {', '.join(str(row['seed']) for row in runs)} | "
            f"{statistics.mean(values):.1f} | {min(values):.1f} | {max(values):.1f} | "
            f"{stalled} | {runs[0]['steps']} steps, {seconds / 60:.1f} min |"
        )
    return "\n".join(lines)


#: The decentralized competitors first (under the papers' schedule, and, in asynchronous
#: settings, under the wake constraint of the learned policy), then the global-price
#: reference (see the README).
RATIO_TO = ("wmmse_local", "wmmse_local_awake", "wmmse", "binary", "equal", "random")


def model_free_markdown(rows: list[dict]) -> str:
    """Model-free rows as a Markdown table: per setting and policy, the test sum rate and
    its ratio to each baseline as mean [min, max] over the seeds.
    """

    def spread(values: list[float], digits: int) -> str:
        return (
            f"{statistics.mean(values):.{digits}f} "
            f"[{min(values):.{digits}f}, {max(values):.{digits}f}]"
        )

    present = [b for b in RATIO_TO if any(f"test/sum_rate_{b}" in r["metrics"] for r in rows)]
    # the same logits deciding by their law's mode, where a row logged it
    modal_any = any("test/mode_sum_rate" in r["metrics"] for r in rows)
    lines = [
        "| setting | policy | seeds | sum rate | budget use | "
        + " | ".join(f"vs {b}" for b in present)
        + (" | mode / draws" if modal_any else "")
        + " |",
        "|---|---|---|---|---|" + "---|" * (len(present) + modal_any),
    ]
    keys = dict.fromkeys((row["setting"], row["name"]) for row in rows)
    for setting, name in keys:
        runs = [r for r in rows if (r["setting"], r["name"]) == (setting, name)]
        metrics = [r["metrics"] for r in runs]
        cells = [
            setting,
            name,
            ", ".join(str(r["seed"]) for r in runs),
            spread([m["test/sum_rate"] for m in metrics], 4),
            spread([100 * (1 + m["test/violation"]) for m in metrics], 1) + " %",
        ]
        cells += [
            spread([m["test/sum_rate"] / m[f"test/sum_rate_{b}"] for m in metrics], 3)
            if all(f"test/sum_rate_{b}" in m for m in metrics)
            else "–"
            for b in present
        ]
        if modal_any:
            if all("test/mode_sum_rate" in m for m in metrics):
                cells.append(
                    spread([m["test/mode_sum_rate"] / m["test/sum_rate"] for m in metrics], 4)
                )
            else:
                cells.append("–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(setting: str, seed: int, results: list[dict]) -> None:
    """Print one setting's test sum rates and the policies' ratios to the baselines."""
    print(f"\n== {setting}, seed {seed}: test episodes, sum rate in nats per slot")
    metrics = results[0]["metrics"]
    baselines = sorted(
        k[len("test/sum_rate_") :] for k in metrics if k.startswith("test/sum_rate_")
    )
    width = {b: max(12, len(b) + 5) for b in baselines}
    labels = [*baselines, *(result["name"] + " (mode)" for result in results)]
    name = max(14, *(len(label) + 2 for label in labels))
    header = f"{'allocation':<{name}}{'sum rate':>10}{'budget use':>12}"
    header += "".join(f"{'vs ' + b:>{width[b]}}" for b in baselines)
    print(header + f"{'train s':>10}{'2% at s':>10}")

    def row(label: str, m: dict, prefix: str) -> str:
        rate = m[f"test/{prefix}sum_rate"]
        line = f"{label:<{name}}{rate:>10.4f}{1 + m[f'test/{prefix}violation']:>11.1%} "
        return line + "".join(f"{rate / m[f'test/sum_rate_{b}']:>{width[b]}.3f}" for b in baselines)

    for result in results:
        m = result["metrics"]
        print(row(result["name"], m, "") + f"{result['seconds']:>10.0f}{result['reached']:>10.0f}")
        if "test/mode_sum_rate" in m:  # the same logits, deciding by the law's mode
            print(row(result["name"] + " (mode)", m, "mode_"))
    for b in baselines:
        use = 1 + metrics[f"test/violation_{b}"]
        print(f"{b:<{name}}{metrics[f'test/sum_rate_{b}']:>10.4f}{use:>11.1%}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench train_quality``."""
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench train_quality", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--settings", nargs="+", default=["m25", "m50"], choices=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(MODELS),
        choices=list(MODELS),
        help="the model-free policies to train (default: both)",
    )
    parser.add_argument(
        "--fit-args",
        default="",
        help="further `pyg-aggnn fit` arguments of every model-free run, one string, e.g. "
        '"--model.distribution truncated_normal"',
    )
    parser.add_argument(
        "--label",
        default=None,
        help="appended to the policies' names in the rows and the table (e.g. the variant "
        "that --fit-args selects)",
    )
    parser.add_argument("--root", default="outputs/train_quality")
    parser.add_argument("--suite", choices=("model_free", "model_based"), default="model_free")
    parser.add_argument("--configs", nargs="+", default=MODEL_BASED, choices=MODEL_BASED)
    parser.add_argument("--json", default=None, help="write the rows here")
    parser.add_argument(
        "--table", nargs="+", default=None, help="print the Markdown table of these JSON files"
    )
    parser.add_argument(
        "--rebaseline",
        default=None,
        metavar="JSON",
        help="re-evaluate the priced baselines (wmmse_local, wmmse_local_awake) of the "
        "model-free rows of this report on their test episodes, rewrite it, print the table",
    )
    args = parser.parse_args(argv)
    if not args.table and not CONFIGS.is_dir():
        parser.error(f"no {CONFIGS}/ folder here ({Path.cwd()}): run it from a checkout's root")
    if args.table:
        rows = [row for path in args.table for row in json.loads(Path(path).read_text())]
        print(model_free_markdown(rows) if "setting" in rows[0] else markdown(rows))
        return
    if args.rebaseline:
        path = Path(args.rebaseline)
        rows = rebaseline(json.loads(path.read_text()), Path(args.root))
        path.write_text(json.dumps(rows, indent=1))
        print(model_free_markdown(rows))
        return
    print(f"torch {torch.__version__}, 1 thread per process, CPU")
    if args.suite == "model_based":
        model_based(args.configs, args.seeds, Path(args.root), args.json)
        return
    rows = []
    extra = shlex.split(args.fit_args)
    for setting in args.settings:
        for seed in args.seeds:
            results = [
                run(
                    name if args.label is None else f"{name}, {args.label}",
                    [*cli_args, *extra],
                    seed,
                    Path(args.root) / setting / name,
                )
                for name, cli_args in SETTINGS[setting].items()
                if name in args.models
            ]
            report(setting, seed, results)
            rows += [{"setting": setting, "seed": seed, **result} for result in results]
            if args.json:  # after every seed, so that an interrupted run keeps its rows
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print(model_free_markdown(rows))


if __name__ == "__main__":
    main()
