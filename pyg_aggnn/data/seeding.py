"""Counter-based random streams: every random draw is keyed, not stateful.

A draw is identified by integers (the run's seed, a stream name, a step, a sample
index); :func:`derive_seed` hashes them into a 63-bit seed with NumPy's
:class:`~numpy.random.SeedSequence`. The datasets written by ``pyg-aggnn generate``
(their ``train``, ``val`` and ``test`` splits) and the online stream of training
(:class:`~pyg_aggnn.data.OnlineEpisodes`) draw episode ``k`` of a split from the same
key, :func:`keyed_episode`, so they hold the same episodes. The samples a DDP rank or
a data-loader worker draws, and the actions sampled for an episode, depend only on
*which* sample and step they are, never on how the work was split or whether the run
was resumed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import torch

from pyg_aggnn.wireless.scenario import Layout, Scenario

__all__ = ["Stream", "derive_seed", "split_stream", "keyed_generator", "keyed_episode"]


class Stream:
    """Integer names of the independent streams of a run (first key after the seed)."""

    TRAIN = 0
    VAL = 1
    TEST = 2
    LAYOUT = 3
    ACTIONS = 4
    EVAL_ACTIONS = 5
    BASELINES = 6
    AUGMENT = 7


_SPLIT_STREAMS = {"train": Stream.TRAIN, "val": Stream.VAL, "test": Stream.TEST}


def derive_seed(*keys: int) -> int:
    """A 63-bit seed from integer keys in ``[0, 2**64)`` (counter-based, no state).

    The number of keys and every key, as two 32-bit words, form the entropy of a
    :class:`numpy.random.SeedSequence`, so distinct key tuples never share a pool.
    """
    words = [len(keys)]
    for key in keys:
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < 2**64:
            raise ValueError(f"keys must be non-negative integers below 2**64, got {key!r}")
        words += [int(key) & 0xFFFFFFFF, int(key) >> 32]
    state = np.random.SeedSequence(words).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def split_stream(split: str) -> int:
    """Stream key of a split: :attr:`Stream.TRAIN`, ``VAL``, ``TEST`` for train, val,
    test, else a hash of the name.

    Hashed names have the top bit set, so they never meet the small stream numbers.
    """
    if split in _SPLIT_STREAMS:
        return _SPLIT_STREAMS[split]
    return int.from_bytes(hashlib.sha256(split.encode()).digest()[:8], "little") | (1 << 63)


def keyed_generator(*keys: int) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with :func:`derive_seed` of ``keys``."""
    return torch.Generator().manual_seed(derive_seed(*keys))


def keyed_episode(
    scenarios: Scenario | Sequence[Scenario],
    num_slots: int,
    seed: int,
    stream: int,
    index: int,
    layout: Layout | None = None,
    dtype: torch.dtype = torch.float32,
    validate: bool = True,
):
    """Episode number ``index`` of a stream, its randomness keyed by
    ``(seed, stream, index)`` only.

    With several scenarios (random networks of several sizes), the scenario is drawn
    uniformly from the same key.

    Args:
        scenarios: the scenario, or the scenarios to choose from.
        num_slots: slots ``T`` of the episode.
        seed: seed of the run or dataset.
        stream: the stream key (:class:`Stream`, :func:`split_stream`).
        index: the episode's number in the stream.
        layout: the fixed network's layout (default: ``None``, a new layout).
        dtype: floating dtype of the episode (default: ``torch.float32``).
        validate: check the episode (default: ``True``; see
            :meth:`~pyg_aggnn.wireless.Scenario.episode`).

    Returns:
        A :class:`~pyg_aggnn.data.WirelessEpisode`.
    """
    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    episode_seed = derive_seed(seed, stream, index)
    scenario = scenarios[episode_seed % len(scenarios)]
    return scenario.episode(
        num_slots, seed=episode_seed, layout=layout, dtype=dtype, validate=validate
    )
