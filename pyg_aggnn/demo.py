"""``pyg-aggnn demo``: simulate one network and show what a user gets."""

from __future__ import annotations

import argparse
import time

import torch

from pyg_aggnn.wireless import AdHoc, physics


def main(argv: list[str] | None = None) -> int:
    """Simulate an ad-hoc episode and print its graph statistics and rates."""
    parser = argparse.ArgumentParser(prog="pyg-aggnn demo", description=__doc__)
    parser.add_argument("--num-links", type=int, default=25, help="number of links m (default: 25)")
    parser.add_argument("--num-slots", type=int, default=10, help="number of slots T (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    try:
        scenario = AdHoc(num_links=args.num_links, reference_links=min(args.num_links, 25))
        start = time.perf_counter()
        episode = scenario.episode(args.num_slots, seed=args.seed)
    except ValueError as error:
        parser.error(str(error))
    elapsed = time.perf_counter() - start
    m, T = episode.num_nodes, episode.num_slots
    print(f"{scenario!r}")
    print(
        f"episode: {m} links, {T} slots, {episode.num_edges} candidate pairs "
        f"({episode.num_edges / m:.1f} per link), simulated in {elapsed * 1e3:.1f} ms"
    )
    neighbours = (episode.edge_weight > 0).sum(0).float() / m
    print(f"graph neighbours per link (incl. self) per slot: mean {neighbours.mean():.2f}")
    full = torch.full((m, T), scenario.p0)
    equal = torch.full((m, T), scenario.p_max_total / m)
    for name, power in (("full power", full), ("equal power", equal)):
        total = physics.sum_rate(episode.rates(power)).mean()
        print(f"{name:>12}: mean sum rate {float(total):.3f} nats/slot")
    return 0
