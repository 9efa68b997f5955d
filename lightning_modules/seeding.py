"""Counter-based random streams: every random draw of training is keyed, not stateful.

A draw is identified by integers (the run's seed, a stream name, a step, a sample
index); :func:`~pyg_aggnn.data.generation_config.derive_seed` hashes them into a 63-bit
seed with NumPy's :class:`~numpy.random.SeedSequence`, exactly as the datasets written
by ``pyg-aggnn generate`` do (their ``train``, ``val`` and ``test`` splits hold the
episodes of the streams below). So the samples a DDP rank or a data-loader worker
draws, and the actions sampled for an episode, depend only on *which* sample and step
they are, never on how the work was split or whether the run was resumed.
"""

from __future__ import annotations

import torch

from pyg_aggnn.data.generation_config import derive_seed

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


def keyed_generator(*keys: int) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with :func:`derive_seed` of ``keys``."""
    return torch.Generator().manual_seed(derive_seed(*keys))
