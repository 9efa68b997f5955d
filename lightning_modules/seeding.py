"""Counter-based random streams: every random draw of training is keyed, not stateful.

A draw is identified by integers (the run's seed, a stream name, a step, a sample
index); :func:`derive_seed` hashes them into a 63-bit seed with NumPy's
:class:`~numpy.random.SeedSequence`. So the samples a DDP rank or a data-loader worker
draws, and the actions sampled for an episode, depend only on *which* sample and step
they are, never on how the work was split or whether the run was resumed.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["derive_seed", "keyed_generator", "Stream"]


class Stream:
    """Integer names of the independent streams of a run (first key after the seed)."""

    TRAIN = 0
    VAL = 1
    TEST = 2
    LAYOUT = 3
    ACTIONS = 4
    EVAL_ACTIONS = 5
    BASELINES = 6


def derive_seed(*keys: int) -> int:
    """A 63-bit seed from integer keys in ``[0, 2**64)`` (order and number matter).

    Every key is encoded as two 32-bit words after the number of keys, so distinct key
    tuples never share an entropy pool.

    Raises:
        ValueError: if a key is not an integer in ``[0, 2**64)``.
    """
    words = [len(keys)]
    for key in keys:
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < 2**64:
            raise ValueError(f"keys must be non-negative integers below 2**64, got {key!r}")
        words += [int(key) & 0xFFFFFFFF, int(key) >> 32]
    state = np.random.SeedSequence(words).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def keyed_generator(*keys: int) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with :func:`derive_seed` of ``keys``."""
    return torch.Generator().manual_seed(derive_seed(*keys))
