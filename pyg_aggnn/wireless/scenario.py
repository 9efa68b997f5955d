"""The scenario base class: layout, fading, activity and states -> ``WirelessEpisode``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from pyg_aggnn._validation import (
    amplitude_limit,
    check_choice,
    check_in_range,
    check_non_negative,
    check_positive,
    check_positive_int,
)
from pyg_aggnn.wireless.activation import Activation, Synchronous
from pyg_aggnn.wireless.fading import ar1_rayleigh
from pyg_aggnn.wireless.states import ConstantState, NodeState

if TYPE_CHECKING:
    from pyg_aggnn.data.episode import WirelessEpisode

__all__ = ["Layout", "Scenario", "make_generator"]


def make_generator(
    seed: int | None = None, generator: torch.Generator | None = None
) -> torch.Generator:
    """A CPU generator from ``seed`` (or ``generator`` itself); exactly one may be given."""
    if seed is not None and generator is not None:
        raise ValueError("give either seed or generator, not both")
    if generator is not None:
        return generator
    if seed is None:
        return torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return torch.Generator().manual_seed(seed)


@dataclass
class Layout:
    """The static part of a network: positions and large-scale gains of candidate pairs.

    Attributes:
        tx_pos: ``[m, 2] float64`` transmitter positions.
        rx_pos: ``[n, 2] float64`` receiver positions.
        receiver: ``[m] long`` receiver of each link.
        edge_index: ``[2, E] long`` candidate edges ``j -> i`` incl. self loops, sorted
            by victim.
        large_scale: ``[P] float64`` large-scale amplitude gain of every physical
            (transmitter, receiver) pair.
        edge_pair: ``[E] long`` the physical pair of every edge: links that share a
            receiver share the channel (and its fading) from each transmitter.
    """

    tx_pos: Tensor
    rx_pos: Tensor
    receiver: Tensor
    edge_index: Tensor
    large_scale: Tensor
    edge_pair: Tensor

    @property
    def num_links(self) -> int:
        return self.tx_pos.size(0)

    @property
    def num_edges(self) -> int:
        return self.edge_index.size(1)

    @property
    def num_pairs(self) -> int:
        return self.large_scale.size(0)


def _check_peak(layout: Layout, dtype: torch.dtype) -> None:
    """Refuse a layout whose strongest pair would overflow ``dtype`` (one scalar reduction)."""
    if layout.num_pairs == 0:
        return
    peak, limit = float(layout.large_scale.max()), amplitude_limit(dtype)
    if not peak <= limit:
        raise ValueError(
            f"large_scale amplitudes must be finite and <= {limit:.3g} in {dtype} (so that "
            f"received powers stay finite), got {peak:.3g}: a transmitter and a receiver "
            "are too close; raise min_distance or use torch.float64"
        )


class Scenario:
    """Base class of every scenario.

    A subclass sets ``num_links`` and implements :meth:`sample_layout`; everything else
    (fading, activity, states, thresholding) is shared.

    Args:
        delta: AR(1) fading innovation factor in ``[0, 1]``.
        fading_var: variance :math:`\\sigma^2` of the real and imaginary parts of the fast
            fading, so that :math:`E|f|^2 = 2\\sigma^2`.
        noise_power: receiver noise power (linear, finite, ``> 0``: with zero noise a
            silent link's SINR is ``0 / 0``).
        p0: per-link maximum transmit power (linear, finite, ``> 0``).
        p_max_total: total average power budget :math:`P_{\\max}` (default: ``num_links``).
        eta0: graph threshold on the amplitude gain (``>= 0``).
        activation: model of the active sets (default: :class:`Synchronous`).
        state: node states (default: :class:`ConstantState`, all ones).
        link_weights: ``"ones"`` or ``"uniform"`` (:math:`\\alpha_i \\sim U[0, 1]`).
    """

    num_links: int

    def __init__(
        self,
        *,
        delta: float,
        fading_var: float,
        noise_power: float,
        p0: float,
        p_max_total: float | None,
        eta0: float,
        activation: Activation | None,
        state: NodeState | None,
        link_weights: str,
    ):
        self.delta = check_in_range("delta", delta, 0.0, 1.0)
        self.fading_var = check_positive("fading_var", fading_var)
        self.noise_power = check_positive("noise_power", noise_power)
        self.p0 = check_positive("p0", p0)
        self.p_max_total = (
            float(self.num_links)
            if p_max_total is None
            else check_positive("p_max_total", p_max_total)
        )
        self.eta0 = check_non_negative("eta0", eta0)
        self.activation = Synchronous() if activation is None else activation
        self.state = ConstantState() if state is None else state
        self.link_weights = check_choice("link_weights", link_weights, ("ones", "uniform"))

    def sample_layout(self, generator: torch.Generator | None = None) -> Layout:
        """Draw positions and the candidate pairs with their large-scale gains."""
        raise NotImplementedError

    def edge_fading(
        self, layout: Layout, num_slots: int, generator: torch.Generator, dtype: torch.dtype
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """The channel of every edge over ``num_slots`` slots, drawn from ``generator``.

        Returns ``(edge_gain, fields)``: the ``[E, T]`` amplitudes :math:`|h_{ij}(t)|`
        (large-scale amplitude times AR(1) Rayleigh fading, one process per physical
        pair) and further episode fields (none here; multi-antenna scenarios add their
        complex channels, see :class:`~pyg_aggnn.wireless.MISOD2D`).
        """
        fading = ar1_rayleigh(
            layout.num_pairs, num_slots, self.delta, self.fading_var, generator, dtype
        )
        pair_gain = layout.large_scale.to(dtype)[:, None] * fading  # [P, T]
        return pair_gain[layout.edge_pair], {}

    def episode(
        self,
        num_slots: int,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        layout: Layout | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        validate: bool = True,
    ) -> WirelessEpisode:
        """Simulate ``num_slots`` slots of one network.

        Args:
            num_slots: number of slots ``T >= 1``.
            seed: seed of the episode's random stream (or pass ``generator``).
            generator: CPU generator to draw from (advanced in place).
            layout: a fixed layout (fixed-network training); default draws a new one.
            dtype: floating dtype of the episode (default: ``torch.float32``).
            device: device of the returned tensors; random draws always happen on the
                CPU, so a seed gives the same numbers on every device.
            validate: check the episode (:meth:`~pyg_aggnn.data.WirelessEpisode.validate`;
                ``False`` where the caller checks a whole simulated set at once).
        """
        from pyg_aggnn.data.episode import WirelessEpisode  # the data layer sits above

        check_positive_int("num_slots", num_slots)
        gen = make_generator(seed, generator)
        layout = self.sample_layout(gen) if layout is None else layout
        m = layout.num_links
        _check_peak(layout, dtype)
        gain, channels = self.edge_fading(layout, num_slots, gen, dtype)  # [E, T]
        src, dst = layout.edge_index
        loops = torch.nonzero(src == dst).squeeze(1)  # [m], sorted by victim
        direct = gain[loops]  # [m, T]
        active = self.activation.sample(m, num_slots, gen)
        x = self.state.sample(m, num_slots, gen, dtype)
        weight = (
            torch.rand(m, generator=gen, dtype=dtype)
            if self.link_weights == "uniform"
            else torch.ones(m, dtype=dtype)
        )
        episode = WirelessEpisode.build(
            x=x,
            edge_index=layout.edge_index,
            edge_gain=gain,
            direct_gain=direct,
            active=active,
            receiver=layout.receiver,
            tx_pos=layout.tx_pos.to(dtype),
            rx_pos=layout.rx_pos.to(dtype),
            eta0=self.eta0,
            noise_power=self.noise_power,
            max_power=self.p0,
            p_max_total=self.p_max_total,
            link_weight=weight,
            validate=validate,
            **channels,
        )
        return episode if device is None else episode.to(device)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
