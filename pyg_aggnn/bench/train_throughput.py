"""Model-based training throughput: this package's training against a plain PyG loop.

For each setting, the same policy class is trained model-based (loss: minus the mean
sum rate of the decision slot, powers through the config's power map) in two ways, on
the same simulated training episodes, timed alternately in one run:

* ``plain PyG loop``: the style of the authors' scripts, a ``torch_geometric``
  ``DataLoader`` over the list of episodes (``shuffle=True``, collated every step), one
  ``MessagePassing`` call per layer (the WCGCN's layer runs ``propagate`` in training,
  with PyG's own aggregation), Adam, nothing else. It trains the same loss as ours, the
  mean rate over the config's scored slots (``t >= warmup_slots``), one forward pass
  per scored slot on the episode's slots up to it, as a per-time-step script does (the
  Agg-GNN's default setting scores 6 of 10 slots; the Gaussian IC has one slot);
* ``plain PyG loop, last slot``: the same loop trained on the last slot only, a sixth of
  the default setting's loss, for reference;
* ``pyg_aggnn (Lightning)``: ``PrimalDualModule`` with ``WirelessDataModule`` under
  ``Trainer.fit`` from the shipped config, with everything it does per step (duals,
  metrics, the stall detector's statistics, logging).

The networks per second include getting the batch (the time from the end of one step
to the end of the next, median over the steps after ``--warmup``); simulating the
training set is done once before and reported apart::

    pyg-aggnn bench train_throughput                 # both settings, 60 steps each
    pyg-aggnn bench train_throughput --steps 200 --settings wcgcn_gaussian_ic_k10
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import time
import types
from pathlib import Path

import torch

#: setting -> (config, extra CLI arguments); model-based, run from a checkout's root
SETTINGS: dict[str, tuple[str, list[str]]] = {
    "wcgcn_gaussian_ic_k10": ("configs/wcgcn/gaussian_ic_k10_0db.yaml", []),
    "wcgcn_gaussian_ic_k50": ("configs/wcgcn/gaussian_ic_k50_0db.yaml", []),
    "aggnn_default_model_based": (
        "configs/default.yaml",
        ["--model.mode", "model_based", "--data.train_size", "3200"],
    ),
}


def _cli(config: str, extra: list[str], seed: int):
    from lightning_modules.cli import AggGNNCLI

    args = ["--config", config, *extra, "--seed_everything", str(seed)]
    return AggGNNCLI(args=[*args, "--trainer.logger=false"], run=False)


def ours(config: str, extra: list[str], steps: int, warmup: int, seed: int = 0) -> dict:
    """Step times (including the batch) of ``Trainer.fit`` on the shipped config."""
    from lightning.pytorch import Callback

    from pyg_aggnn.bench.training import bench_trainer

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    cli = _cli(config, extra, seed)
    start = time.perf_counter()
    cli.datamodule.setup("fit")
    cli.datamodule.train_dataloader()  # simulates the training set once
    setup = time.perf_counter() - start

    class Ends(Callback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_train_batch_end(self, *args) -> None:
            self.ends.append(time.perf_counter())

    ends = Ends()
    trainer = bench_trainer(steps + warmup, [ends])
    trainer.fit(cli.model, cli.datamodule)
    gaps = [b - a for a, b in zip(ends.ends[warmup:], ends.ends[warmup + 1 :])]
    return {
        "median_step_s": statistics.median(gaps),
        "setup_s": setup,
        "batch_size": cli.datamodule.batch_size,
    }


def pyg_aggregation(policy: torch.nn.Module) -> None:
    """Give every message-passing layer of ``policy`` PyG's own ``aggregate`` (the
    WCGCN's maximum through torch's ``scatter_reduce``, as in the authors' code), in
    place of a layer's faster one (:func:`pyg_aggnn.nn.max_aggregation.max_aggregate`).
    """
    from torch_geometric.nn import MessagePassing

    for layer in policy.modules():
        if isinstance(layer, MessagePassing):
            layer.aggregate = types.MethodType(MessagePassing.aggregate, layer)


#: fields of a (batched) episode with a slot dimension (dim 1)
SLOT_FIELDS = ("x", "edge_weight", "edge_gain", "direct_gain", "active")


def first_slots(batch, count: int):
    """A shallow copy of ``batch`` with its first ``count`` slots: what a per-time-step
    script feeds the policy to decide at slot ``count - 1``.
    """
    out = copy.copy(batch)
    for name in SLOT_FIELDS:
        value = getattr(batch, name, None)
        if value is not None:
            out[name] = value[:, :count]
    return out


def plain_pyg_loop(
    config: str,
    extra: list[str],
    steps: int,
    warmup: int,
    seed: int = 0,
    last_slot_only: bool = False,
) -> dict:
    """Step times (including the batch) of a straightforward PyG training loop of the
    config's policy on the same training episodes: the mean rate over the scored slots,
    one forward pass per slot (or the last slot only, ``last_slot_only``).
    """
    from torch_geometric.loader import DataLoader

    from pyg_aggnn.nn.power_map import continuous_power

    cli = _cli(config, extra, seed)
    module, data = cli.model, cli.datamodule
    policy, power_map = module.policy, module.power_map
    pyg_aggregation(policy)
    data.setup("fit")
    start = time.perf_counter()
    episodes = data.training_episodes(data.train_size)
    setup = time.perf_counter() - start
    torch.manual_seed(seed)
    loader = DataLoader(episodes, batch_size=data.batch_size, shuffle=True, drop_last=True)
    optimizer = torch.optim.Adam(policy.parameters(), lr=module.lr)
    policy.train()
    num_slots = episodes[0].num_slots
    slots = [num_slots - 1] if last_slot_only else list(range(module.warmup_slots, num_slots))
    ends: list[float] = []
    while len(ends) < steps + warmup + 1:
        for batch in loader:
            loss = 0.0
            for t in slots:
                logits = policy.logits(batch if t == num_slots - 1 else first_slots(batch, t + 1))
                power = continuous_power(logits, batch.max_power, power_map)
                loss = loss - batch.rates(power, slot=t).sum()
            loss = loss / (batch.num_graphs * len(slots))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ends.append(time.perf_counter())
            if len(ends) > steps + warmup:
                break
    gaps = [b - a for a, b in zip(ends[warmup:], ends[warmup + 1 :])]
    return {
        "median_step_s": statistics.median(gaps),
        "setup_s": setup,
        "batch_size": data.batch_size,
        "scored_slots": len(slots),
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench train_throughput``."""
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench train_throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--steps", type=int, default=60, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    for name in args.settings:
        if not Path(SETTINGS[name][0]).exists():
            parser.error(
                f"no {SETTINGS[name][0]} here ({Path.cwd()}): run it from a checkout's root"
            )
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU; median of {args.steps} steps")
    print(f"{'setting':<28} {'loop':<26} {'step ms':>7} {'networks/s':>11} {'setup s':>8}")
    for name in args.settings:
        config, extra = SETTINGS[name]
        runs: dict[str, list[dict]] = {"plain PyG loop": [], "pyg_aggnn (Lightning)": []}
        last = "plain PyG loop, last slot"
        for _ in range(args.repeats):  # alternately, so that a change of load hits both
            plain = plain_pyg_loop(config, extra, args.steps, args.warmup)
            runs["plain PyG loop"].append(plain)
            if plain["scored_slots"] > 1:  # the loss of the last slot alone differs
                runs.setdefault(last, []).append(
                    plain_pyg_loop(config, extra, args.steps, args.warmup, last_slot_only=True)
                )
            runs["pyg_aggnn (Lightning)"].append(ours(config, extra, args.steps, args.warmup))
        medians = {}
        for loop, results in runs.items():
            step = statistics.median(r["median_step_s"] for r in results)
            setup = statistics.median(r["setup_s"] for r in results)
            medians[loop] = step
            rate = results[0]["batch_size"] / step
            print(f"{name:<28} {loop:<26} {step * 1e3:7.2f} {rate:11.0f} {setup:8.1f}", flush=True)
        for loop in [key for key in runs if key.startswith("plain")]:
            ratio = medians[loop] / medians["pyg_aggnn (Lightning)"]
            label = "throughput ratio, ours / plain" + (", last slot" if loop == last else "")
            print(f"{name:<28} {label:<43} {ratio:6.2f}x", flush=True)
