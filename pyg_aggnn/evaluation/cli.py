"""``pyg-aggnn evaluate``: trained policies and every baseline on the same episodes.

Examples::

    pyg-aggnn evaluate model.ckpt                          # new AdHoc networks, m of the model
    pyg-aggnn evaluate agg=a.ckpt sel=b.ckpt --scenario configs/x.yaml --episodes 500
    pyg-aggnn evaluate model.ckpt --transfer scale --values 25 50 100 200 500 1000
    pyg-aggnn evaluate model.ckpt --transfer delta --values 0.1 0.3 0.6 1.0
    pyg-aggnn evaluate model.ckpt --transfer async --values 0 25     # 0 = synchronous
    pyg-aggnn evaluate model.ckpt --transfer hops --values 1 2 4 8
    pyg-aggnn evaluate model.ckpt --dataset datasets/adhoc_m25-<hash> --split new_networks
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

from pyg_aggnn._cli_errors import ArgumentParser
from pyg_aggnn.baselines.suite import (
    BASELINES,
    CALIBRATION_EPISODES,
    DEFAULT_BASELINES,
    PRICED_BASELINES,
    baseline_suite,
)
from pyg_aggnn.data.config import scenario_from_config, scenario_to_config
from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.evaluation.allocators import BaselineAllocator, PolicyAllocator
from pyg_aggnn.evaluation.checkpoints import load_policy, training_scenario
from pyg_aggnn.evaluation.episodes import dataset_episodes, simulate_episodes
from pyg_aggnn.evaluation.evaluator import evaluate
from pyg_aggnn.evaluation.report import format_table, summary_rows, write_results
from pyg_aggnn.evaluation.transference import MODES, transfer_settings, with_hops
from pyg_aggnn.on_air import DECISIONS, OnAirPolicy
from pyg_aggnn.wireless import AdHoc

__all__ = ["main", "parse_scenario", "run_evaluation"]


def parse_scenario(text: str):
    """A scenario from a YAML/JSON file or inline text: ``{class_path, init_args}``, or a
    data config holding it under ``scenario`` (``configs/data/*.yaml``).
    """
    path = Path(text)
    config = yaml.safe_load(path.read_text()) if path.is_file() else yaml.safe_load(text)
    if isinstance(config, dict) and "scenario" in config and "class_path" not in config:
        config = config["scenario"]
    if isinstance(config, str):
        config = {"class_path": config}
    return scenario_from_config(config)


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pyg-aggnn evaluate",
        description=(
            "Evaluate trained policies (checkpoints of pyg-aggnn fit or train) and the classical "
            "baselines on the same episodes: sum rate (mean and 95% confidence interval), "
            "power, budget violation, fraction of links served and the per-link rate "
            "distribution. Prints a table; writes summary.csv, networks.csv, "
            "link_rates.csv and summary.json."
        ),
        epilog=__doc__.split("Examples::", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("checkpoints", nargs="*", help="checkpoints, as PATH or NAME=PATH")
    add(
        "--scenario",
        help="scenario YAML/JSON (file or inline); default: the first "
        "checkpoint's training scenario, else AdHoc(25)",
    )
    add("--dataset", help="evaluate on this dataset directory instead of simulating")
    add("--split", default="test", help="dataset split (default: test)")
    add(
        "--network",
        choices=("random", "fixed"),
        default="random",
        help="new random layouts per episode, or the fixed training layout of --seed "
        "(default: random)",
    )
    add("--episodes", type=int, default=200, help="networks per setting (default: 200)")
    add("--num-slots", type=int, default=None, help="slots per episode (default: warm-up + 6)")
    add(
        "--warmup-slots",
        type=int,
        default=None,
        help="leading slots not scored (default: the models' own, at least K - 1)",
    )
    add("--seed", type=int, default=0, help="seed of the episodes and random draws (default: 0)")
    add("--transfer", choices=MODES, default="same-size", help="transference mode")
    add(
        "--values",
        nargs="+",
        type=float,
        default=None,
        help="sizes / deltas / lam (0 = synchronous) / hop counts of the transfer mode",
    )
    add(
        "--baselines",
        nargs="*",
        default=list(DEFAULT_BASELINES),
        choices=BASELINES,
        help=f"baselines to show (default: {' '.join(DEFAULT_BASELINES)})",
    )
    add(
        "--wmmse-iters",
        type=int,
        default=None,
        help="distributed WMMSE iterations (default: the first model's K, else 5)",
    )
    add(
        "--baseline-update-every",
        type=int,
        default=1,
        help="baselines' decision period in slots, e.g. m/lam (default: 1)",
    )
    add("--samples", type=int, default=1, help="action draws per episode (default: 1)")
    add(
        "--decision",
        choices=DECISIONS,
        default=DECISIONS[0],
        help="model-free policies act by draws of their law (the papers', default) or by its "
        "mode (on where the transmit probability is above 1/2): a deterministic policy",
    )
    add(
        "--served-rate",
        type=float,
        default=0.1,
        help="mean rate (nats/slot) from which a link counts as served (default: 0.1)",
    )
    add(
        "--neighbours-only",
        action="store_true",
        help="rates with above-threshold interferers only (the papers' eq. 41)",
    )
    add("--max-links", type=int, default=20000, help="links per batch (default: 20000)")
    add("--device", default="cpu", help="torch device (default: cpu)")
    add("--out", default="evaluation", help="output directory (default: ./evaluation)")
    return parser


def _checkpoint_paths(items: list[str]) -> list[tuple[str, str]]:
    """``(NAME or "", PATH)`` of every ``PATH`` or ``NAME=PATH`` item. An item that is an
    existing file is a path, ``=`` and all (Lightning names its checkpoints
    ``epoch=E-step=S.ckpt``); so is one whose part before the first ``=`` holds a ``/``.
    """
    pairs = []
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or Path(item).is_file() or "/" in name:
            pairs.append(("", item))
        else:
            pairs.append((name, path))
    return pairs


def load_checkpoints(
    items: list[str], device: str = "cpu"
) -> tuple[dict[str, OnAirPolicy], dict[str, str]]:
    """The policies of ``PATH`` or ``NAME=PATH`` items (:func:`load_policy`) and their
    files, by name: ``NAME`` or, without one, the policy's class (``AggGNN``,
    ``AggGNN_1``, ...).
    """
    policies: dict[str, OnAirPolicy] = {}
    paths: dict[str, str] = {}
    for name, path in _checkpoint_paths(items):
        policy = load_policy(path, map_location=device)
        name = name or type(policy.policy).__name__
        if name in policies:
            name = f"{name}_{len(policies)}"
        policies[name], paths[name] = policy, path
    return policies, paths


def run_evaluation(args: argparse.Namespace) -> tuple[dict, dict[str, Any]]:
    """Evaluate as the parsed command line says; returns ``(results, meta)``."""
    modules, paths = load_checkpoints(args.checkpoints, args.device)
    for module in modules.values():
        module.decision = args.decision
    hops = [int(getattr(m.policy, "K", 1)) for m in modules.values()]
    if args.transfer == "hops":
        hops += [int(v) for v in args.values or []]
    trained = [int(getattr(m, "warmup_slots", 0)) for m in modules.values()]
    warmup = args.warmup_slots
    if warmup is None:  # the models' own, and the buffer of the longest aggregation
        warmup = max([*trained, *(K - 1 for K in hops)], default=0)
    num_slots = args.num_slots or warmup + 6
    exchanges = args.wmmse_iters or (hops[0] if modules else 5)
    if args.dataset:
        if args.transfer != "same-size":
            raise ValueError(f"--transfer must be same-size with --dataset, got {args.transfer!r}")
        settings = [(args.split, None, None)]
    else:
        scenario = _default_scenario(args)
        settings = transfer_settings(args.transfer, scenario, args.values)
    results: dict[str, dict] = {}
    for label, setting, K in settings:
        if setting is None:
            episodes = dataset_episodes(args.dataset, args.split, args.episodes)
        else:
            episodes = simulate_episodes(
                setting, args.episodes, num_slots, args.seed, network=args.network
            )
        max_links = max(e.num_nodes for e in episodes)
        calibration = None
        # the priced baselines' price: training episodes of the setting
        if any(n in args.baselines for n in PRICED_BASELINES):
            if setting is None:
                try:
                    calibration = dataset_episodes(args.dataset, "train", CALIBRATION_EPISODES)
                except ValueError:  # no training split: the default set leaves it out
                    calibration = None
            else:
                calibration = simulate_episodes(
                    setting,
                    CALIBRATION_EPISODES,
                    num_slots,
                    args.seed,
                    network=args.network,
                    stream=Stream.TRAIN,
                )
        methods = {}
        for name, module in modules.items():
            if K is not None:
                module = _module_with_hops(module, K)
            methods[name] = PolicyAllocator(module, samples=args.samples)
        suite = baseline_suite(
            args.baselines,
            num_exchanges=K or exchanges,
            update_every=args.baseline_update_every,
            max_links=max_links,
            neighbours_only=args.neighbours_only,
            calibration=calibration,
            warmup_slots=warmup,
        )
        methods.update({n: BaselineAllocator(b, seed=args.seed) for n, b in suite.items()})
        print(
            f"[evaluate] {label}: {len(episodes)} networks of {max_links} links, "
            f"{len(methods)} methods",
            flush=True,
        )
        results[label] = evaluate(
            methods,
            episodes,
            warmup_slots=warmup,
            served_rate=args.served_rate,
            neighbours_only=args.neighbours_only,
            max_links=args.max_links,
            device=args.device,
        )
    meta = {
        "checkpoints": paths,
        "transfer": args.transfer,
        "settings": {
            label: (scenario_to_config(s) if s is not None else {"dataset": args.dataset})
            for label, s, _ in settings
        },
        "episodes": args.episodes,
        "num_slots": num_slots,
        "warmup_slots": warmup,
        "wmmse_iters": exchanges,
        "seed": args.seed,
        "network": args.network,
        "served_rate": args.served_rate,
        "neighbours_only": args.neighbours_only,
    }
    return results, meta


def _default_scenario(args: argparse.Namespace):
    """``--scenario``, else the first checkpoint's training scenario, else ``AdHoc(25)``."""
    if args.scenario:
        return parse_scenario(args.scenario)
    for _, path in _checkpoint_paths(args.checkpoints):
        scenario = training_scenario(path)
        if scenario is not None:
            return scenario
    return AdHoc(num_links=25)


def _module_with_hops(module, K: int):
    changed = copy.deepcopy(module)
    changed.policy = with_hops(module.policy, K)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pyg-aggnn evaluate``; a bad value (a damaged or refused
    checkpoint included) raises ``ValueError``, which ``pyg-aggnn`` prints as one line.
    """
    args = _parser().parse_args(argv)
    results, meta = run_evaluation(args)
    print(format_table(summary_rows(results)))
    paths = write_results(args.out, results, meta)
    print(f"written: {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
