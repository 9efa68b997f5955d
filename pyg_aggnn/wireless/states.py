"""Node states :math:`x_i(t)`, the signal the Agg-GNN diffuses."""

from __future__ import annotations

import torch
from torch import Tensor

from pyg_aggnn._validation import check_finite, check_finite_tensor, check_positive

__all__ = ["NodeState", "ConstantState", "PoissonArrivals", "GivenState"]


class NodeState:
    """Base class: ``sample(num_nodes, num_slots, generator, dtype)`` returns ``[m, T, F]``."""

    def sample(
        self,
        num_nodes: int,
        num_slots: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class ConstantState(NodeState):
    """Every node holds ``value`` at every slot (the papers' power-allocation setting)."""

    def __init__(self, value: float = 1.0):
        self.value = check_finite("value", value)

    def sample(self, num_nodes, num_slots, generator=None, dtype=torch.float32):
        return torch.full((num_nodes, num_slots, 1), self.value, dtype=dtype)


class PoissonArrivals(NodeState):
    """Packet arrivals: ``x_i(t) ~ Poisson(rate)`` i.i.d. over nodes and slots."""

    def __init__(self, rate: float = 1.0):
        self.rate = check_positive("rate", rate)

    def sample(self, num_nodes, num_slots, generator=None, dtype=torch.float32):
        rates = torch.full((num_nodes, num_slots, 1), self.rate, dtype=torch.float64)
        return torch.poisson(rates, generator=generator).to(dtype)


class GivenState(NodeState):
    """User-provided states, ``[m, T, F]`` (or ``[m, F]``, repeated at every slot)."""

    def __init__(self, values: Tensor):
        check_finite_tensor("values", values)
        if values.dim() not in (2, 3):
            raise ValueError(
                f"values must have shape [m, T, F] or [m, F], got {list(values.shape)}"
            )
        self.values = values

    def sample(self, num_nodes, num_slots, generator=None, dtype=torch.float32):
        values = self.values if self.values.dim() == 3 else self.values[:, None, :]
        if values.size(0) != num_nodes or values.size(1) not in (1, num_slots):
            raise ValueError(
                f"values must have shape [{num_nodes}, {num_slots}, F], got {list(self.values.shape)}"
            )
        return values.expand(num_nodes, num_slots, values.size(2)).to(dtype).clone()
