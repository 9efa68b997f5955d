"""Models of the active set :math:`\\mathcal{A}(t)`: who wakes up at each slot."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive, check_positive_int

__all__ = ["Activation", "Synchronous", "RandomSubsets", "PeriodicClocks", "GivenSubsets"]


class Activation:
    """Base class: ``sample(num_nodes, num_slots, generator)`` returns ``[m, T] bool``."""

    def sample(
        self, num_nodes: int, num_slots: int, generator: torch.Generator | None = None
    ) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Synchronous(Activation):
    """Every node is active at every slot."""

    def sample(self, num_nodes, num_slots, generator=None):
        return torch.ones(num_nodes, num_slots, dtype=torch.bool)


def _subset_rows(subsets: Sequence[Tensor], choice: Tensor, num_nodes: int) -> Tensor:
    table = torch.zeros(len(subsets), num_nodes, dtype=torch.bool)
    for row, members in enumerate(subsets):
        table[row, members] = True
    return table[choice].T.contiguous()  # [m, T]


class RandomSubsets(Activation):
    """The papers' asynchronous model.

    ``num_subsets`` subsets are drawn once per network, each of size
    ``Poisson(lam)`` clipped to ``[1, m]`` with members chosen uniformly; at every slot
    one of them is drawn uniformly as the active set.

    Args:
        lam: mean number of active nodes :math:`\\lambda > 0`.
        num_subsets: number of subsets :math:`N_{act}` (default: ``5``).
        subset_seed: if given, the subsets are drawn from this seed once and kept for
            every episode (a fixed network's wake patterns); otherwise each episode draws
            its own from the episode's generator (default: ``None``).
    """

    def __init__(self, lam: float, num_subsets: int = 5, subset_seed: int | None = None):
        self.lam = check_positive("lam", lam)
        self.num_subsets = check_positive_int("num_subsets", num_subsets)
        self.subset_seed = subset_seed

    def subsets(self, num_nodes: int, generator: torch.Generator | None = None) -> list[Tensor]:
        """Draw the ``num_subsets`` active subsets of a network of ``num_nodes`` nodes."""
        if self.subset_seed is not None:
            generator = torch.Generator().manual_seed(self.subset_seed)
        rates = torch.full((self.num_subsets,), self.lam, dtype=torch.float64)
        sizes = torch.poisson(rates, generator=generator).long().clamp(1, num_nodes)
        return [torch.randperm(num_nodes, generator=generator)[: int(size)] for size in sizes]

    def sample(self, num_nodes, num_slots, generator=None):
        subsets = self.subsets(num_nodes, generator)
        choice = torch.randint(self.num_subsets, (num_slots,), generator=generator)
        return _subset_rows(subsets, choice, num_nodes)


class GivenSubsets(Activation):
    """User-provided active subsets; one is drawn uniformly at every slot.

    Args:
        subsets: non-empty lists of node indices in ``[0, m)``.
    """

    def __init__(self, subsets: Sequence[Sequence[int]]):
        if len(subsets) == 0:
            raise ValueError("subsets must hold at least one subset, got an empty list")
        for k, members in enumerate(subsets):
            if len(members) == 0:
                raise ValueError(f"subsets[{k}] must be non-empty, got {list(members)!r}")
        self.subsets = [list(map(int, members)) for members in subsets]

    def sample(self, num_nodes, num_slots, generator=None):
        for k, members in enumerate(self.subsets):
            bad = [v for v in members if not 0 <= v < num_nodes]
            if bad:
                raise ValueError(f"subsets[{k}] holds node indices {bad} outside [0, {num_nodes})")
        choice = torch.randint(len(self.subsets), (num_slots,), generator=generator)
        return _subset_rows([torch.tensor(s) for s in self.subsets], choice, num_nodes)


class PeriodicClocks(Activation):
    """Node ``i`` is active when ``(t - offset_i) mod period_i == 0``.

    Args:
        period: one period for all nodes or a list of per-node periods (slots, ``>= 1``).
        offset: per-node offsets; ``None`` draws each uniformly in ``[0, period_i)``
            from the episode's generator (default: ``None``).
    """

    def __init__(self, period: int | Sequence[int] = 2, offset: Sequence[int] | None = None):
        periods = [period] if isinstance(period, int) else list(period)
        if not periods:
            raise ValueError("period must be an integer >= 1 or a non-empty list, got []")
        for value in periods:
            check_positive_int("period", value)
        self.period = period
        self.offset = None if offset is None else [int(v) for v in offset]

    def sample(self, num_nodes, num_slots, generator=None):
        if isinstance(self.period, int):
            period = torch.full((num_nodes,), self.period, dtype=torch.long)
        else:
            if len(self.period) != num_nodes:
                raise ValueError(
                    f"period must list one period per node ({num_nodes}), got {len(self.period)}"
                )
            period = torch.tensor(self.period, dtype=torch.long)
        if self.offset is None:
            offset = (
                torch.rand(num_nodes, generator=generator, dtype=torch.float64) * period
            ).long()
        elif len(self.offset) != num_nodes:
            raise ValueError(
                f"offset must list one offset per node ({num_nodes}), got {len(self.offset)}"
            )
        else:
            offset = torch.tensor(self.offset, dtype=torch.long)
        t = torch.arange(num_slots)
        return (t[None, :] - offset[:, None]) % period[:, None] == 0
