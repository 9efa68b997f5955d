"""``pyg-aggnn reproduce <experiment>``: re-run an experiment of the papers, with figures.

Each experiment trains what it needs (or reuses the finished runs under
``<out>/runs/``), evaluates, and writes its figure (PNG and PDF) with the numbers as
CSV beside it in ``<out>/<experiment>/``; ``<out>/index.md`` lists everything produced
so far. Budgets: the papers' (default, meant for a GPU), ``--quick`` (about ten minutes
per experiment on two CPU cores) and ``--tiny`` (seconds; for tests, numbers
meaningless).

Examples::

    pyg-aggnn reproduce training-curves --quick
    pyg-aggnn reproduce all --quick --out results
    pyg-aggnn reproduce scale-transfer --device cuda
    pyg-aggnn reproduce architectures --quick --seed 1 --out results/seed1
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
import warnings
from pathlib import Path

import torch

from pyg_aggnn._cli_errors import ArgumentParser
from pyg_aggnn.experiments.budget import get_budget
from pyg_aggnn.experiments.common import Context
from pyg_aggnn.experiments.index import write_index, write_output

__all__ = ["EXPERIMENTS", "main", "run_experiment"]

#: ``name: (module, what it reproduces)`` in the order of the papers' experiments.
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "training-curves": ("training_curves", "Fig. 3, 4: training curves, m = 25 / 50"),
    "constraint-violation": ("constraint_violation", "Fig. 5: budget violation over training"),
    "hop-sweep": ("hop_sweep", "Fig. 6: performance vs hops K for several delta"),
    "asynchronous": ("asynchronous", "Fig. 7: asynchronous m = 50, Poisson(25) active"),
    "same-size-transfer": ("same_size_transfer", "Fig. 8, 9: new networks of the same size"),
    "scale-transfer": ("scale_transfer", "Fig. 10, 11: larger networks at fixed density"),
    "cellular": ("cellular", "Fig. 12, 13: cellular uplink, curve and hop sweep"),
    "architectures": ("architectures", "Agg/Sel/WCGCN/MLP on Gaussian IC and D2D, larger nets"),
    "beamforming": ("beamforming", "WCGCN beamforming vs WMMSE: distances, larger, denser"),
}


def run_experiment(name: str, ctx: Context):
    """Run one experiment, record its output and refresh the index; returns the
    :class:`~pyg_aggnn.experiments.common.Output`.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {list(EXPERIMENTS)}, got {name!r}")
    module = importlib.import_module(f"pyg_aggnn.experiments.{EXPERIMENTS[name][0]}")
    ctx.log(f"[reproduce] {name} ({ctx.budget.name} budget) ...")
    start = time.perf_counter()
    output = module.run(ctx)
    seconds = time.perf_counter() - start
    write_output(Path(ctx.out) / name, output, seconds, ctx.budget.as_dict())
    write_index(ctx.out, list(EXPERIMENTS))
    ctx.log(f"[reproduce] {name} done in {seconds / 60:.1f} min: {Path(ctx.out) / name}")
    return output


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<22} {help_}" for name, (_, help_) in EXPERIMENTS.items())
    parser = ArgumentParser(
        prog="pyg-aggnn reproduce",
        description=__doc__.split("Examples::")[0].replace("``", ""),
        epilog=f"experiments:\n{listing}\n  {'all':<22} every experiment, then the index\n\n"
        "examples:" + __doc__.split("Examples::")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("experiment", choices=[*EXPERIMENTS, "all"], metavar="experiment")
    level = parser.add_mutually_exclusive_group()
    level.add_argument(
        "--quick", action="store_true", help="about 10 min per experiment on 2 CPU cores"
    )
    level.add_argument("--tiny", action="store_true", help="seconds per experiment (tests)")
    parser.add_argument("--out", default="reproduce", help="output folder (default: ./reproduce)")
    parser.add_argument("--device", default="cpu", help="evaluation device (default: cpu)")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch CPU threads")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of every training run; evaluations on random networks keep the test "
        "networks of seed 0 (default: 0; give each seed its own --out)",
    )
    return parser


def _quiet() -> None:
    """Keep Lightning's banners and known warnings out of the progress lines."""
    for logger in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    # Lightning's own modules only: "lightning" alone would also match lightning_modules,
    # whose StallDetector must always be heard
    warnings.filterwarnings("ignore", category=UserWarning, module=r"lightning(\.|$)")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pyg-aggnn reproduce``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    budget = get_budget("tiny" if args.tiny else "quick" if args.quick else "paper")
    if args.threads:
        torch.set_num_threads(args.threads)
    _quiet()

    def log(text: str) -> None:
        print(text, flush=True)

    ctx = Context(Path(args.out), budget, device=args.device, log=log, seed=args.seed)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    start = time.perf_counter()
    for name in names:
        run_experiment(name, ctx)
    index = write_index(ctx.out, list(EXPERIMENTS))
    log(f"[reproduce] finished in {(time.perf_counter() - start) / 60:.1f} min; index: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
