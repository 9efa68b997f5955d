import pytest
import torch

from pyg_aggnn.data import ShardShuffleSampler


class _Shards:
    """Just what the sampler reads from a WirelessDataset."""

    def __init__(self, sizes, cache_shards=2):
        starts = [sum(sizes[:k]) for k in range(len(sizes))]
        self.shard_bounds = [(s, s + n) for s, n in zip(starts, sizes)]
        self.cache_shards = cache_shards

    def __len__(self):
        return self.shard_bounds[-1][1]


def _shard_of(bounds, index):
    return next(k for k, (a, b) in enumerate(bounds) if a <= index < b)


def _lru_loads(order, bounds, capacity):
    cache, loads = [], 0
    for index in order:
        shard = _shard_of(bounds, index)
        if shard in cache:
            cache.remove(shard)
        else:
            loads += 1
            if len(cache) == capacity:
                cache.pop(0)
        cache.append(shard)
    return loads


def test_every_index_once_and_each_shard_read_once_per_epoch():
    data = _Shards([4, 4, 4, 4, 3])
    sampler = ShardShuffleSampler(data)
    order = list(sampler)
    assert sorted(order) == list(range(19)) and len(sampler) == 19
    # an LRU cache of `cache_shards` shards reads every shard exactly once
    assert _lru_loads(order, data.shard_bounds, capacity=2) == 5
    # ... while consecutive samples still come from different shards
    changes = sum(
        _shard_of(data.shard_bounds, a) != _shard_of(data.shard_bounds, b)
        for a, b in zip(order, order[1:])
    )
    assert changes > 4
    # plain random access would read a shard for almost every sample
    shuffled = [int(i) for i in torch.randperm(19, generator=torch.Generator().manual_seed(0))]
    assert _lru_loads(shuffled, data.shard_bounds, capacity=2) > 5


def test_order_is_seeded_and_changes_with_the_epoch():
    data = _Shards([5, 5, 5])
    a, b = ShardShuffleSampler(data, seed=3), ShardShuffleSampler(data, seed=3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and sorted(a) == sorted(first)
    assert list(ShardShuffleSampler(data, seed=4)) != first


def test_window_is_validated():
    with pytest.raises(ValueError, match="window"):
        ShardShuffleSampler(_Shards([2]), window=0)
