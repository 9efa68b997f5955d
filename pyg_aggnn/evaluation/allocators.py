r"""Allocators: learned policies and baselines behind one call, ``batch -> power``.

An allocator returns the transmit powers ``[N, T, S]`` (or, for beamforming on MISO
episodes, the complex beamformers ``[N, T, S, N_t]``) that a method puts on the air at
every slot of a (batched) :class:`~pyg_aggnn.data.WirelessEpisode` (``S`` independent
action samples). Random draws are keyed, never taken from a global generator: a learned
policy's by every episode's ``sample_id`` (the same draws however the episodes are
batched), a random baseline's by the batch's first ``sample_id`` (the same draws for
the same batches), so results do not depend on what else ran before.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines import Baseline
from pyg_aggnn.data.seeding import Stream, keyed_generator

__all__ = ["PolicyAllocator", "BaselineAllocator", "batch_key"]


def batch_key(batch) -> int:
    """The random key of a batch: its first episode's ``sample_id`` (``0`` if none)."""
    ids = getattr(batch, "sample_id", None)
    return 0 if ids is None else int(ids.reshape(-1)[0])


class PolicyAllocator:
    """A trained policy on the air: an :class:`~pyg_aggnn.on_air.OnAirPolicy`
    (:func:`~pyg_aggnn.evaluation.load_policy`) or a training module.

    The powers are exactly what training evaluates (:func:`pyg_aggnn.on_air.allocate`):
    keyed draws :math:`p_0 a` (model-free) or the power map's :math:`p` (model-based),
    held by inactive nodes.

    Args:
        module: the trained policy (any object with ``allocate(batch, stream, step,
            samples)`` and a ``policy``).
        samples: action draws per episode (default: ``1``).
    """

    def __init__(self, module: nn.Module, samples: int = 1):
        if not callable(getattr(module, "allocate", None)):
            raise ValueError(f"module must have an allocate() method, got {type(module).__name__}")
        self.module = module
        self.samples = check_positive_int("samples", samples)

    @torch.no_grad()
    def __call__(self, batch) -> Tensor:
        on_air = self.module.allocate(batch, Stream.EVAL_ACTIONS, 0, self.samples)
        return on_air.transmitted  # [N, T, S] powers, or [N, T, 1, N_t] beamformers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.module.policy).__name__}, samples={self.samples})"


class BaselineAllocator:
    """A classical :class:`~pyg_aggnn.baselines.Baseline`, its randomness keyed by
    ``(seed, Stream.BASELINES, batch key)`` as in training's validation.

    Args:
        baseline: the baseline.
        seed: seed of the random baselines' draws (default: ``0``).
    """

    def __init__(self, baseline: Baseline, seed: int = 0):
        if not isinstance(baseline, Baseline):
            raise ValueError(f"baseline must be a Baseline, got {type(baseline).__name__}")
        self.baseline = baseline
        self.seed = check_positive_int("seed", seed, minimum=0)

    @torch.no_grad()
    def __call__(self, batch) -> Tensor:
        generator = keyed_generator(self.seed, Stream.BASELINES, batch_key(batch))
        # [N, T, 1] powers, or [N, T, 1, N_t] beamformers
        return self.baseline(batch, generator=generator).unsqueeze(2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.baseline!r})"
