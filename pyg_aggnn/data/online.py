"""``OnlineEpisodes``: an endless, reproducible stream of simulated episodes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import IterableDataset, get_worker_info

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.data.seeding import Stream, keyed_episode
from pyg_aggnn.wireless.scenario import Layout, Scenario

__all__ = ["OnlineEpisodes", "simulate"]


def simulate(
    scenarios: Sequence[Scenario],
    num_slots: int,
    seed: int,
    stream: int,
    index: int,
    layout: Layout | None = None,
):
    """Episode number ``index`` of a stream (:func:`~pyg_aggnn.data.seeding.keyed_episode`),
    carrying ``sample_id = [index]``, which keys the random draws made on it.
    """
    episode = keyed_episode(scenarios, num_slots, seed, stream, index, layout)
    episode.sample_id = torch.tensor([index])
    return episode


class OnlineEpisodes(IterableDataset):
    r"""Simulated training episodes, drawn on the fly, as whole batches.

    Global batch :math:`s` of a run with :math:`W` ranks of ``batch_size`` episodes each
    holds the episodes :math:`n = (sW + r)\,b + j` of rank :math:`r`; episode :math:`n`
    is :func:`simulate` ``(..., index=n)``. Data-loader worker :math:`w` of :math:`N_w`
    produces the batches :math:`s \equiv w \pmod{N_w}`, which PyTorch hands out in
    order. So every rank and worker draws different episodes, and the stream is the
    same whatever the number of workers, and equal to a single-process run with the
    same global batch; ``start`` (the first global batch, e.g. the trainer's
    ``global_step`` on resume) continues it where it stopped.

    Args:
        scenarios: the scenario(s) to simulate.
        num_slots: slots ``T`` per episode.
        batch_size: episodes per batch of this rank.
        seed: seed of the run.
        layout: the fixed network's layout (``None``: a new layout per episode).
        batches: batches per pass (an epoch), or ``None`` for an endless stream.
        rank: this process' rank (default: ``0``).
        world_size: number of ranks (default: ``1``).
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        num_slots: int,
        batch_size: int,
        seed: int,
        layout: Layout | None = None,
        batches: int | None = None,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.scenarios = list(scenarios)
        self.num_slots = check_positive_int("num_slots", num_slots)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.seed = seed
        self.layout = layout
        self.batches = None if batches is None else check_positive_int("batches", batches)
        self.rank = rank
        self.world_size = check_positive_int("world_size", world_size)
        self.start = 0

    def __len__(self) -> int:
        if self.batches is None:
            raise TypeError("an endless OnlineEpisodes stream has no length")
        return self.batches * self.batch_size

    def batch_indices(self, step: int) -> range:
        """Episode indices of global batch ``step`` on this rank."""
        first = (step * self.world_size + self.rank) * self.batch_size
        return range(first, first + self.batch_size)

    def __iter__(self) -> Iterator:
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        stop = self.batches if self.batches is not None else None
        for offset in itertools.islice(itertools.count(), worker, stop, workers):
            for index in self.batch_indices(self.start + offset):
                yield simulate(
                    self.scenarios, self.num_slots, self.seed, Stream.TRAIN, index, self.layout
                )
