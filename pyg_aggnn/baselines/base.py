"""``Baseline``: the policy interface shared by every classical baseline."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.wireless.holding import last_active_slot
from pyg_aggnn.wireless.miso import num_antennas

__all__ = ["Baseline"]

_FIELDS = (
    "edge_index",
    "edge_gain",
    "edge_weight",
    "direct_gain",
    "active",
    "max_power",
    "noise_power",
    "link_weight",
    "p_max_total",
)


class Baseline(nn.Module):
    r"""Base class of the classical power allocation baselines.

    A baseline is called like a learned policy on a (batched)
    :class:`~pyg_aggnn.data.WirelessEpisode` and returns the transmit power of every
    link at every slot, ``[N, T]``; rates and utilities then come from
    :mod:`pyg_aggnn.wireless.physics` (e.g. ``batch.rates(power)``).

    Asynchronous use (the papers' Fig. 7): link :math:`i` takes a fresh
    decision at slot :math:`t` only if it is *scheduled*,

    .. math::
        d_i(t) = [t \bmod \tau = 0] \land \big([i \in \mathcal{A}(t)] \lor
        \lnot \mathrm{when\_active}\big) \;\lor\; \big([t = 0] \land
        \lnot \mathrm{when\_active}\big),

    and holds its power in between, :math:`p_i(t) = p_i(t^\star_i)` with
    :math:`t^\star_i = \max\{t' \le t : d_i(t')\}`. Without ``when_active`` slot ``0``
    is a decision slot of every link (the papers' schedule: every link has a power from
    the start, asleep or not). With ``when_active`` a link decides only when it is
    awake and transmits nothing before its first decision, as a learned policy does on
    the air (:func:`pyg_aggnn.wireless.holding.hold`): the same wake constraint. The
    decision at slot ``t`` uses slot ``t``'s channel only.

    Subclasses implement :meth:`decide`, the one override point; the schedule and the
    holding are shared. A baseline holds no parameters; it is an ``nn.Module`` so that
    it sits next to the learned models (``.to()``, ``.eval()``, configuration through
    ``class_path``).

    Baselines allocate one power per link: on a multi-antenna episode (``N_t > 1``,
    :class:`~pyg_aggnn.wireless.MISOD2D`) they raise ``ValueError``, except those that
    set ``beamforming = True`` and return ``[N, T, N_t]`` complex beamformers
    (:class:`~pyg_aggnn.baselines.WMMSEBeamforming`).

    Args:
        update_every: decision period :math:`\tau` in slots, e.g. ``m / lam = 2`` as in
            the papers' asynchronous experiments (default: ``1``, every slot).
        when_active: decide only at slots where the link is active, and transmit nothing
            before the first of them (default: ``False``).

    Shapes:
        - **input:** a ``WirelessEpisode`` (or a batch of them) with ``N`` links and
          ``T`` slots.
        - **output:** ``[N, T]`` powers (linear, same unit as ``max_power``).
    """

    #: Whether :meth:`decide` returns beamformers ``[N, S, N_t]`` (complex) on MISO
    #: episodes instead of powers.
    beamforming = False

    def __init__(self, update_every: int = 1, when_active: bool = False):
        super().__init__()
        self.update_every = check_positive_int("update_every", update_every)
        if not isinstance(when_active, bool):
            raise ValueError(f"when_active must be a bool, got {when_active!r}")
        self.when_active = when_active

    # ------------------------------------------------------------------ override point
    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        """Fresh powers of every link at the slots ``slots`` (``[S] long``), ``[N, S]``.

        Random baselines draw from ``generator`` (``None``: torch's default one).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def schedule(self, batch) -> Tensor:
        """Decision mask :math:`d_i(t)`, ``[N, T] bool``."""
        active = batch.active
        num_slots = active.size(1)
        slot = torch.arange(num_slots, device=active.device)
        due = (slot % self.update_every == 0).expand_as(active)  # [N, T]
        if self.when_active:
            return due & active.bool()
        due = due.clone()
        due[:, 0] = True
        return due

    @staticmethod
    def hold(fresh: Tensor, schedule: Tensor, slots: Tensor) -> Tensor:
        """Expand decisions to every slot by holding each link's last decision.

        Args:
            fresh: ``[N, S]`` powers (or ``[N, S, *D]`` decisions) decided at ``slots``.
            schedule: ``[N, T] bool`` decision mask; every decision slot must be listed
                in ``slots``.
            slots: ``[S] long`` increasing slot indices (at least one).

        Returns:
            ``[N, T]`` powers, ``power[i, t] = fresh[i, column of t*_i]``, and zero before
            link ``i``'s first decision.
        """
        num_slots = schedule.size(1)
        last = last_active_slot(schedule)  # [N, T], -1 before the first decision
        column = torch.zeros(num_slots, dtype=torch.long, device=schedule.device)
        column[slots] = torch.arange(slots.numel(), device=schedule.device)
        index = column[last.clamp_min(0)]  # [N, T]
        decided = last >= 0
        if fresh.dim() > 2:  # trailing decision dimensions (a beamformer's antennas)
            trailing = [1] * (fresh.dim() - 2)
            index = index.reshape(*index.shape, *trailing).expand(-1, -1, *fresh.shape[2:])
            decided = decided.reshape(*decided.shape, *trailing)
        held = fresh.gather(1, index)
        if bool(decided.all()):
            return held
        return torch.where(decided, held, torch.zeros_like(held))

    def forward(self, batch, generator: torch.Generator | None = None) -> Tensor:
        """Powers ``[N, T]`` of every link at every slot (see the class docstring).

        Args:
            batch: a :class:`~pyg_aggnn.data.WirelessEpisode` or a PyG batch of them.
            generator: random stream of the randomized baselines; draws happen on the
                generator's device (default: ``None``, torch's global generator).
        """
        missing = [name for name in _FIELDS if getattr(batch, name, None) is None]
        if missing:
            raise ValueError(
                f"batch must be a (batched) WirelessEpisode, got {type(batch).__name__} "
                f"without {missing}"
            )
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(
                f"generator must be a torch.Generator or None, got {type(generator).__name__}"
            )
        antennas = num_antennas(batch)
        if antennas > 1 and not self.beamforming:
            raise ValueError(
                f"{type(self).__name__} allocates one power per link and does not support "
                f"N_t > 1 transmit antennas; the batch has N_t = {antennas} (use "
                "WMMSEBeamforming for MISO beamforming)"
            )
        schedule = self.schedule(batch)
        due = schedule.any(dim=0)
        due[0] = True  # at least one decision slot, also if no link ever wakes
        slots = due.nonzero().squeeze(1)
        fresh = self.decide(batch, slots, generator)
        expected = [schedule.size(0), slots.numel()]
        if list(fresh.shape[:2]) != expected:
            raise RuntimeError(
                f"{type(self).__name__}.decide returned {list(fresh.shape)}, expected {expected}"
            )
        return self.hold(fresh, schedule, slots)

    def extra_repr(self) -> str:
        return f"update_every={self.update_every}, when_active={self.when_active}"
