"""``OnlineEpisodes``: an endless, reproducible stream of simulated episodes."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.data.seeding import Stream, keyed_episode
from pyg_aggnn.data.stacked import StackedEpisodes, stack_episodes
from pyg_aggnn.wireless.scenario import Layout, Scenario

__all__ = ["OnlineEpisodes", "simulate", "simulate_set", "available_cpus"]

#: Fewest episodes a worker process of :func:`simulate_set` simulates at once.
MIN_CHUNK = 1024


def simulate(
    scenarios: Sequence[Scenario],
    num_slots: int,
    seed: int,
    stream: int,
    index: int,
    layout: Layout | None = None,
    validate: bool = True,
):
    """Episode number ``index`` of a stream (:func:`~pyg_aggnn.data.seeding.keyed_episode`),
    carrying ``sample_id = [index]``, which keys the random draws made on it.
    """
    episode = keyed_episode(scenarios, num_slots, seed, stream, index, layout, validate=validate)
    episode.sample_id = torch.tensor([index])
    return episode


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Chunks(Dataset):
    """Chunk ``c`` of a stream's first ``size`` episodes, simulated and stacked."""

    def __init__(self, scenarios, num_slots, seed, stream, size, layout, chunk):
        self.args = (scenarios, num_slots, seed, stream)
        self.size, self.layout, self.chunk = size, layout, chunk

    def __len__(self) -> int:
        return math.ceil(self.size / self.chunk)

    def __getitem__(self, c: int):
        first = c * self.chunk
        return _simulated(*self.args, range(first, min(self.size, first + self.chunk)), self.layout)


def _simulated(scenarios, num_slots, seed, stream, indices, layout):
    """Episodes ``indices`` of a stream, stacked (:func:`stack_episodes`) and checked as
    :meth:`~pyg_aggnn.data.WirelessEpisode.validate` checks each: a stack at once (a
    third of the time of simulating a small network went to checking it alone).
    """
    episodes = stack_episodes(
        simulate(scenarios, num_slots, seed, stream, index, layout, validate=False)
        for index in indices
    )
    if isinstance(episodes, StackedEpisodes):
        episodes.validate()
    else:
        for episode in episodes:
            episode.validate()
    return episodes


def _unchanged(part):
    return part


def simulate_set(
    scenarios: Sequence[Scenario],
    num_slots: int,
    seed: int,
    stream: int,
    size: int,
    layout: Layout | None = None,
    workers: int = 1,
    chunk: int | None = None,
) -> StackedEpisodes | list:
    """Episodes ``0, ..., size - 1`` of a stream (:func:`simulate`), as
    :func:`~pyg_aggnn.data.stack_episodes` returns them: a
    :class:`~pyg_aggnn.data.StackedEpisodes` where all have one shape, else a list.

    With ``workers > 1``, that many processes (``torch.utils.data.DataLoader`` workers)
    simulate contiguous chunks of at least ``chunk`` episodes (default: ``size`` over
    four chunks per worker, at least 1,024) and the chunks are joined in order. Every
    episode is keyed by its index, so the set is the same, bit for bit, whatever the
    number of workers; a set of fewer than two chunks is simulated in this process.
    """
    size = check_positive_int("size", size)
    workers = check_positive_int("workers", workers)
    chunk = (
        max(MIN_CHUNK, math.ceil(size / (4 * workers)))
        if chunk is None
        else check_positive_int("chunk", chunk)
    )
    if workers == 1 or size < 2 * chunk:
        return _simulated(scenarios, num_slots, seed, stream, range(size), layout)
    chunks = _Chunks(list(scenarios), num_slots, seed, stream, size, layout, chunk)
    # the loader draws its workers' base seed from a generator of its own, so that
    # simulating leaves the global random state as a single process leaves it
    loader = DataLoader(
        chunks,
        batch_size=None,
        num_workers=min(workers, len(chunks)),
        collate_fn=_unchanged,
        generator=torch.Generator(),
    )
    parts = list(loader)
    if all(isinstance(part, StackedEpisodes) for part in parts):
        try:
            return StackedEpisodes.concatenate(parts)
        except ValueError:  # chunks of different shapes
            pass
    return [part[k] for part in parts for k in range(len(part))]


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
