r"""Run several allocation methods on the same episodes and collect their metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch_geometric.data import Batch

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.evaluation.metrics import METRICS, network_metrics
from pyg_aggnn.evaluation.statistics import summarize

__all__ = ["MethodResult", "evaluate", "batches"]

Allocator = Callable[[Batch], Tensor]


@dataclass
class MethodResult:
    """Everything one method achieved on a set of networks.

    Attributes:
        per_network: ``{metric: [B] float64}`` for the ``B`` networks, in episode order
            (see :class:`~pyg_aggnn.evaluation.metrics.NetworkMetrics`).
        link_rate: ``[N] float64`` mean rate of every evaluated link (nats per slot).
        seconds: wall time spent computing the powers (not the metrics).
    """

    per_network: dict[str, Tensor] = field(default_factory=dict)
    link_rate: Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.float64))
    seconds: float = 0.0

    @property
    def num_networks(self) -> int:
        return int(self.per_network["sum_rate"].numel()) if self.per_network else 0

    def summary(self, confidence: float = 0.95) -> dict[str, float]:
        """Means, the sum rate's confidence interval and link-rate quantiles
        (:func:`~pyg_aggnn.evaluation.statistics.summarize`), plus ``seconds``.
        """
        row = summarize(self.per_network, self.link_rate, confidence)
        row["seconds"] = self.seconds
        return row


def batches(
    episodes: Iterable, max_links: int = 20_000, max_networks: int = 256
) -> Iterable[Batch]:
    """Group episodes into batches of at most ``max_links`` links (at least one episode)
    and ``max_networks`` networks, in order. Episodes without ``sample_id`` get their
    position as one, which keys the methods' random draws.
    """
    check_positive_int("max_links", max_links)
    check_positive_int("max_networks", max_networks)
    group, links = [], 0
    for index, episode in enumerate(episodes):
        if getattr(episode, "sample_id", None) is None:
            episode.sample_id = torch.tensor([index])
        if group and (links + episode.num_nodes > max_links or len(group) == max_networks):
            yield Batch.from_data_list(group)
            group, links = [], 0
        group.append(episode)
        links += episode.num_nodes
    if group:
        yield Batch.from_data_list(group)


def evaluate(
    methods: Mapping[str, Allocator],
    episodes: Sequence,
    warmup_slots: int = 0,
    served_rate: float = 0.1,
    neighbours_only: bool = False,
    max_links: int = 20_000,
    device: torch.device | str | None = None,
) -> dict[str, MethodResult]:
    """Evaluate every method on the same episodes.

    Args:
        methods: ``{name: allocator}``; an allocator maps a batch to powers ``[N, T]``
            or ``[N, T, S]`` (:mod:`pyg_aggnn.evaluation.allocators`).
        episodes: the :class:`~pyg_aggnn.data.WirelessEpisode` s (a list or a dataset);
            all must have the same number of slots.
        warmup_slots: leading slots left out of the metrics (default: ``0``).
        served_rate: mean rate from which a link counts as served (default: ``0.1``).
        neighbours_only: rates with above-threshold interferers only (default: ``False``).
        max_links: links per batch (default: ``20000``).
        device: where the methods run (default: the episodes' device).

    Returns:
        ``{name: MethodResult}`` in the order of ``methods``.
    """
    if not methods:
        raise ValueError("methods must hold at least one allocator, got none")
    results = {name: MethodResult() for name in methods}
    parts: dict[str, dict[str, list[Tensor]]] = {
        name: {metric: [] for metric in (*METRICS, "link_rate")} for name in methods
    }
    for batch in batches(episodes, max_links=max_links):
        if device is not None:
            batch = batch.to(device)
        for name, allocate in methods.items():
            start = time.perf_counter()
            power = allocate(batch)
            if power.is_cuda:
                torch.cuda.synchronize(power.device)
            results[name].seconds += time.perf_counter() - start
            with torch.no_grad():
                metrics = network_metrics(batch, power, warmup_slots, served_rate, neighbours_only)
            for metric, values in metrics.per_network().items():
                parts[name][metric].append(values.detach().double().cpu())
            parts[name]["link_rate"].append(metrics.link_rate.detach().double().cpu())
    for name, result in results.items():
        result.link_rate = torch.cat(parts[name].pop("link_rate"))
        result.per_network = {metric: torch.cat(values) for metric, values in parts[name].items()}
    return results
