"""``ShardShuffleSampler``: shuffled epochs that read every shard once."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from pyg_aggnn._validation import check_positive_int

__all__ = ["ShardShuffleSampler"]


class ShardShuffleSampler(Sampler[int]):
    """Shuffle a :class:`~pyg_aggnn.data.WirelessDataset` shard-window by shard-window.

    Every epoch draws a random order of the shards, cuts it into windows of ``window``
    shards and yields the samples of each window in a random order. With ``window`` no
    larger than the number of shards the dataset's cache holds (``cache_shards``), every
    shard is read once per epoch instead of about once per sample (fully random access
    over a split larger than the cache), while batches still mix samples of ``window``
    different shards.

    Args:
        dataset: the dataset (anything with ``shard_bounds`` and ``len``).
        window: shards mixed together (default: the dataset's ``cache_shards``).
        seed: seed of the order; epoch ``e`` uses ``seed + e`` (default: ``0``).
    """

    def __init__(self, dataset, window: int | None = None, seed: int = 0):
        self.bounds = list(dataset.shard_bounds)
        self.window = check_positive_int(
            "window", dataset.cache_shards if window is None else window
        )
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.epoch = 0
        self._length = len(dataset)

    def set_epoch(self, epoch: int) -> None:
        """Use the order of epoch ``epoch`` (call before each epoch for a new order)."""
        self.epoch = check_positive_int("epoch", epoch, minimum=0)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.bounds), generator=generator).tolist()
        for first in range(0, len(order), self.window):
            indices = torch.cat(
                [torch.arange(*self.bounds[s]) for s in order[first : first + self.window]]
            )
            yield from indices[torch.randperm(indices.numel(), generator=generator)].tolist()

    def __len__(self) -> int:
        return self._length
