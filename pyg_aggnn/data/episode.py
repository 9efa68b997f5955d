"""``WirelessEpisode``: one wireless network over ``T`` slots as a PyG graph."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

from pyg_aggnn._validation import (
    amplitude_limit,
    check_float_tensor,
    check_non_negative,
    check_positive,
    check_shape,
    check_values,
)
from pyg_aggnn.data.batching import edge_threshold
from pyg_aggnn.wireless import miso, physics

__all__ = ["WirelessEpisode"]

_DENSE_LIMIT = 4096


class WirelessEpisode(Data):
    r"""One network of ``m`` links observed over ``T`` slots.

    The candidate interference pairs are fixed for the episode (they come from the
    large-scale geometry), while the fading, the threshold test and the active set change
    at every slot. Edge ``j -> i`` means *transmitter* ``j`` *is heard at the receiver of
    link* ``i`` (``edge_index[0]`` is the sender, ``edge_index[1]`` the victim), so PyG's
    default ``source_to_target`` flow sums messages at the victim. Self loops ``i -> i``
    carry the direct links.

    Attributes (``m`` links, ``n`` receivers, ``E`` candidate edges, ``T`` slots, ``F``
    state features):

    * ``x``: ``[m, T, F] float``, node states :math:`x_i(t)`.
    * ``edge_index``: ``[2, E] long``, candidate pairs, sorted by victim, unique.
    * ``edge_gain``: ``[E, T] float``, physical amplitude gains
      :math:`|h_{ij}(t)|` (linear, not squared), used for rates.
    * ``edge_weight``: ``[E, T] float``, graph shift operator
      :math:`S(t)_{ij} = |h_{ij}(t)|\,\mathbb{1}[|h_{ij}(t)| \ge \eta_0]\,\mathbb{1}[j \in \mathcal{A}(t)]`;
      zero means "not in slot ``t``'s graph".
    * ``direct_gain``: ``[m, T] float``, :math:`|h_{ii}(t)|`.
    * ``active``: ``[m, T] bool``, :math:`i \in \mathcal{A}(t)`.
    * ``receiver``: ``[m] long``, receiver :math:`r(i)` of each link (index into ``rx_pos``).
    * ``tx_pos``: ``[m, 2]``, ``rx_pos``: ``[n, 2]`` positions (scenario units; zeros
      for scenarios without geometry).
    * ``link_weight``: ``[m]``, priority weights :math:`\alpha_i`.
    * ``max_power``: ``[m]``, per-link maximum power :math:`p_0` (linear).
    * ``noise_power``: ``[m]``, receiver noise power (linear).
    * ``p_max_total``: ``[1]``, total power budget :math:`P_{\max}` of the network.
    * ``eta0``: ``[1]``, the graph threshold :math:`\eta_0` (amplitude).

    Multi-antenna (MISO) episodes (:class:`~pyg_aggnn.wireless.MISOD2D`, :math:`N_t`
    transmit antennas) also carry the complex channels that beamformers see
    (:mod:`pyg_aggnn.wireless.miso`), and ``edge_gain`` / ``direct_gain`` are their norms:

    * ``edge_channel``: ``[E, T, N_t] complex``, :math:`h_{ij}(t)` (received amplitude
      :math:`h_{ij}^H v_j`);
    * ``direct_channel``: ``[m, T, N_t] complex``, :math:`h_{ii}(t)`.

    Episodes of different sizes batch with :class:`torch_geometric.loader.DataLoader`;
    all episodes of one batch must share ``T``.
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        if key == "receiver":
            return self.rx_pos.size(0)
        return super().__inc__(key, value, *args, **kwargs)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(
        cls,
        gain: Tensor,
        eta0: float = 0.0,
        active: Tensor | None = None,
        x: Tensor | None = None,
        noise_power: float = 1.0,
        max_power: float = 1.0,
        p_max_total: float | None = None,
        link_weight: Tensor | None = None,
    ) -> WirelessEpisode:
        """Build an episode from a dense channel, keeping every pair (exact, small ``m``).

        Args:
            gain: ``[m, m, T]`` amplitudes, ``gain[i, j, t]`` = Tx ``j`` -> Rx ``i``.
            eta0: graph threshold on the amplitude (default: ``0.0``).
            active: ``[m, T] bool`` activity (default: all active).
            x: ``[m, T, F]`` node states (default: ones).
            noise_power: receiver noise power (default: ``1.0``).
            max_power: per-link maximum power ``p0`` (default: ``1.0``).
            p_max_total: total budget (default: ``m * max_power``).
            link_weight: ``[m]`` priority weights (default: ones).
        """
        check_float_tensor("gain", gain, "[m, m, T]")
        check_positive("max_power", max_power)
        if gain.dim() != 3 or gain.size(0) != gain.size(1):
            raise ValueError(f"gain must have shape [m, m, T], got {list(gain.shape)}")
        m, _, num_slots = gain.shape
        direct, edge_index, edge_gain = physics.dense_to_edges(gain)
        order = torch.argsort(edge_index[1] * m + edge_index[0])
        edge_index, edge_gain = edge_index[:, order], edge_gain[order]
        active = torch.ones(m, num_slots, dtype=torch.bool) if active is None else active
        x = torch.ones(m, num_slots, 1, dtype=gain.dtype) if x is None else x
        check_shape("active", active, [m, num_slots])
        check_shape("x", x, [m, num_slots, None])
        return cls.build(
            x=x,
            edge_index=edge_index,
            edge_gain=edge_gain,
            direct_gain=direct,
            active=active,
            receiver=torch.arange(m),
            tx_pos=torch.zeros(m, 2, dtype=gain.dtype),
            rx_pos=torch.zeros(m, 2, dtype=gain.dtype),
            eta0=eta0,
            noise_power=noise_power,
            max_power=max_power,
            p_max_total=m * max_power if p_max_total is None else p_max_total,
            link_weight=link_weight,
        )

    @classmethod
    def build(
        cls,
        *,
        x: Tensor,
        edge_index: Tensor,
        edge_gain: Tensor,
        direct_gain: Tensor,
        active: Tensor,
        receiver: Tensor,
        tx_pos: Tensor,
        rx_pos: Tensor,
        eta0: float,
        noise_power: float,
        max_power: float,
        p_max_total: float,
        link_weight: Tensor | None = None,
        validate: bool = True,
        **extra: Any,
    ) -> WirelessEpisode:
        """Assemble and validate an episode, computing the thresholded ``edge_weight``.

        ``noise_power`` and ``max_power`` must be finite and ``> 0`` (with zero noise a
        silent link's rate is ``0 / 0``), ``eta0`` and ``p_max_total`` finite and
        ``>= 0``; the tensors are checked by :meth:`validate`, unless ``validate`` is
        ``False``: the caller then checks them itself, e.g. a simulated set at once
        (:meth:`~pyg_aggnn.data.StackedEpisodes.validate`).
        """
        check_non_negative("eta0", eta0)
        check_positive("noise_power", noise_power)
        check_non_negative("p_max_total", p_max_total)
        check_positive("max_power", max_power)
        m = x.size(0)
        dtype = edge_gain.dtype
        finfo = torch.finfo(dtype)
        if noise_power < finfo.tiny:
            raise ValueError(
                f"noise_power must be >= {finfo.tiny:.3g} in {dtype} (a normal number; "
                f"smaller ones round towards zero), got {noise_power!r}"
            )
        for name, value in (("noise_power", noise_power), ("max_power", max_power)):
            if value > finfo.max:
                raise ValueError(f"{name} must be <= {finfo.max:.3g} in {dtype}, got {value!r}")
        episode = cls(
            x=x,
            edge_index=edge_index,
            edge_gain=edge_gain,
            direct_gain=direct_gain,
            active=active.bool(),
            receiver=receiver,
            tx_pos=tx_pos,
            rx_pos=rx_pos,
            link_weight=torch.ones(m, dtype=dtype) if link_weight is None else link_weight,
            max_power=torch.full((m,), float(max_power), dtype=dtype),
            noise_power=torch.full((m,), float(noise_power), dtype=dtype),
            p_max_total=torch.tensor([float(p_max_total)], dtype=dtype),
            eta0=torch.tensor([float(eta0)], dtype=dtype),
            **extra,
        )
        if validate:
            episode.validate()
        episode.edge_weight = episode.shift_weights()
        return episode

    def validate(self) -> WirelessEpisode:
        """Check shapes, dtypes and values; raise ``ValueError`` naming the field.

        Values are checked with one reduction per tensor and one host synchronisation:
        ``x`` and ``link_weight`` finite (``link_weight >= 0``), amplitudes finite,
        ``>= 0`` and at most :func:`~pyg_aggnn._validation.amplitude_limit` of their
        dtype (so that received powers cannot overflow), indices in range.
        """
        self.validate_shapes()
        check_values(*self.value_checks(self, self.x.size(0), self.rx_pos.size(0)))
        return self

    def validate_shapes(self) -> WirelessEpisode:
        """The shape and dtype part of :meth:`validate`."""
        m, num_slots = self.x.size(0), self.x.size(1)
        check_shape("x", self.x, [m, num_slots, None])
        check_shape("edge_index", self.edge_index, [2, None])
        num_edges = self.edge_index.size(1)
        check_shape("edge_gain", self.edge_gain, [num_edges, num_slots])
        check_shape("direct_gain", self.direct_gain, [m, num_slots])
        check_shape("active", self.active, [m, num_slots])
        check_shape("receiver", self.receiver, [m])
        check_shape("tx_pos", self.tx_pos, [m, 2])
        check_shape("rx_pos", self.rx_pos, [None, 2])
        check_shape("link_weight", self.link_weight, [m])
        if "edge_weight" in self:
            check_shape("edge_weight", self.edge_weight, [num_edges, num_slots])
        for name in ("x", "edge_gain", "direct_gain", "link_weight"):
            check_float_tensor(name, self[name], "as documented on WirelessEpisode")
        if "edge_channel" in self or "direct_channel" in self:
            self._validate_channel_shapes(m, num_edges, num_slots)
        return self

    @staticmethod
    def value_checks(fields, num_links: int, num_receivers: int) -> list[tuple]:
        """The value part of :meth:`validate`: :func:`~pyg_aggnn._validation.check_values`
        arguments for the tensors of ``fields`` (an episode, or the fields of
        episodes stacked along a new first dimension, whose values obey the same
        bounds), with ``num_links`` links and ``num_receivers`` receivers each.
        """
        limit = amplitude_limit(fields["edge_gain"].dtype)
        checks = [
            ("x", fields["x"]),
            ("edge_gain", fields["edge_gain"], 0.0, limit),
            ("direct_gain", fields["direct_gain"], 0.0, limit),
            ("link_weight", fields["link_weight"], 0.0),
            ("edge_index", fields["edge_index"], 0, num_links - 1),
            ("receiver", fields["receiver"], 0, num_receivers - 1),
        ]
        for name in ("edge_channel", "direct_channel"):
            if name in fields:
                real = torch.view_as_real(fields[name].resolve_conj())
                checks.append((name, real, -limit, limit))
        return checks

    def _validate_channel_shapes(self, m: int, num_edges: int, num_slots: int) -> None:
        """The complex channels of a MISO episode: shapes and dtype."""
        for name in ("edge_channel", "direct_channel"):
            if name not in self:
                raise ValueError(f"{name} is missing: a MISO episode needs both channels")
        edge = miso.check_complex("edge_channel", self.edge_channel, "[E, T, N_t]", 3)
        antennas = edge.size(-1)
        check_shape("edge_channel", edge, [num_edges, num_slots, antennas])
        check_shape("direct_channel", self.direct_channel, [m, num_slots, antennas])
        miso.check_complex("direct_channel", self.direct_channel, "[m, T, N_t]", 3)

    # ------------------------------------------------------------------ views
    @property
    def num_slots(self) -> int:
        """Number of slots ``T``."""
        return self.x.size(1)

    def _edge_eta0(self) -> Tensor:
        return edge_threshold(self)[:, None]  # [E, 1] or [1, 1]

    def shift_weights(self) -> Tensor:
        """The graph shift operator weights ``[E, T]`` (threshold and sender activity)."""
        keep = (self.edge_gain >= self._edge_eta0()) & self.active[self.edge_index[0]]
        return self.edge_gain * keep

    def interference_gain(self, neighbours_only: bool = False) -> Tensor:
        """Gains ``[E, T]`` that count as interference in the rate.

        ``False`` (default): every materialized pair, physically complete. ``True``: only
        pairs above the threshold :math:`\\eta_0` (the papers' eq. (41)), whatever their
        activity, since an inactive transmitter keeps transmitting its held power.
        """
        if not neighbours_only:
            return self.edge_gain
        return self.edge_gain * (self.edge_gain >= self._edge_eta0())

    def rates(
        self, power: Tensor, slot: int | None = None, neighbours_only: bool = False
    ) -> Tensor:
        r"""Per-link rates (nats) of ``power`` through :func:`pyg_aggnn.wireless.physics.rate`,
        or of complex beamformers through :func:`pyg_aggnn.wireless.miso.rate`.

        Only ``power`` and ``slot`` are checked here (one reduction, one host
        synchronisation); the episode's own tensors were checked when it was built.

        Args:
            power: ``[m, T]`` (or ``[m, T, *S]``) powers for every slot (``slot=None``),
                or ``[m, *S]`` powers applied at slot ``slot`` (trailing dims are
                samples); finite and ``>= 0``.
            slot: slot index in ``[-T, T)``, or ``None`` for all slots.
            neighbours_only: see :meth:`interference_gain`.

        A MISO episode also takes complex beamformers ``[m, T, *S, N_t]`` (or
        ``[m, *S, N_t]`` with ``slot``), :math:`\|v_i\|^2 \le` ``max_power``.
        """
        if power.is_complex():
            return self._beam_rates(power, slot, neighbours_only)
        m, num_slots = self.x.size(0), self.x.size(1)
        if slot is None:
            want = f"[m, T] or [m, T, *S] with m = {m}, T = {num_slots} (pass slot= for one slot)"
            check_float_tensor("power", power, want)
            if power.dim() < 2 or power.size(0) != m or power.size(1) != num_slots:
                raise ValueError(f"power must have shape {want}, got {list(power.shape)}")
        else:
            if isinstance(slot, bool) or not isinstance(slot, int):
                raise ValueError(f"slot must be an integer or None, got {slot!r}")
            if not -num_slots <= slot < num_slots:
                raise ValueError(f"slot must be in [{-num_slots}, {num_slots}), got {slot}")
            want = f"[m] or [m, *S] with m = {m}"
            check_float_tensor("power", power, want)
            if power.dim() < 1 or power.size(0) != m:
                raise ValueError(f"power must have shape {want}, got {list(power.shape)}")
        check_values(("power", power, 0.0))
        gain = self.interference_gain(neighbours_only)
        direct = self.direct_gain
        if slot is not None:
            gain, direct = gain[:, slot], direct[:, slot]
        return physics._rate(power, direct, self.edge_index, gain, self.noise_power)

    def _beam_rates(self, beams: Tensor, slot: int | None, neighbours_only: bool) -> Tensor:
        """:meth:`rates` of complex beamformers on a MISO episode."""
        if "edge_channel" not in self:
            raise ValueError(
                "power is complex (beamformers), but the episode has no edge_channel: "
                "beamformers need a multi-antenna scenario such as MISOD2D"
            )
        m, num_slots, antennas = self.x.size(0), self.x.size(1), self.edge_channel.size(-1)
        if slot is None:
            want = f"[m, T, *S, N_t] with m = {m}, T = {num_slots}, N_t = {antennas}"
            ok = beams.dim() >= 3 and beams.shape[:2] == (m, num_slots)
        else:
            if isinstance(slot, bool) or not isinstance(slot, int):
                raise ValueError(f"slot must be an integer or None, got {slot!r}")
            if not -num_slots <= slot < num_slots:
                raise ValueError(f"slot must be in [{-num_slots}, {num_slots}), got {slot}")
            want = f"[m, *S, N_t] with m = {m}, N_t = {antennas}"
            ok = beams.dim() >= 2 and beams.size(0) == m
        if not ok or beams.size(-1) != antennas:
            raise ValueError(f"beamformers must have shape {want}, got {list(beams.shape)}")
        check_values(("beamformers", torch.view_as_real(beams.detach().resolve_conj())))
        channel, direct = self.edge_channel, self.direct_channel
        if neighbours_only:
            keep = self.edge_gain >= self._edge_eta0()  # [E, T]
            channel = channel * keep[..., None].to(channel.real.dtype)
        if slot is not None:
            channel, direct = channel[:, slot], direct[:, slot]
        return miso._rate(beams, direct, self.edge_index, channel, self.noise_power)

    def snapshot(self, slot: int) -> Data:
        """Slot ``slot`` as a plain PyG :class:`Data` holding only that slot's graph edges."""
        weight = self.edge_weight[:, slot]
        keep = weight > 0
        return Data(
            x=self.x[:, slot],
            edge_index=self.edge_index[:, keep],
            edge_weight=weight[keep],
            direct_gain=self.direct_gain[:, slot],
            active=self.active[:, slot],
            num_nodes=self.x.size(0),
        )

    def to_snapshots(self) -> list[Data]:
        """The episode as a temporal sequence of per-slot PyG graphs."""
        return [self.snapshot(t) for t in range(self.num_slots)]

    def dense_gain(self, slot: int, neighbours_only: bool = False) -> Tensor:
        """Dense ``[m, m]`` amplitude matrix ``gain[i, j]`` at ``slot`` (small networks).

        Pairs that are not materialized are zero. Raises ``ValueError`` above 4096 links.
        """
        m = self.x.size(0)
        if m > _DENSE_LIMIT:
            raise ValueError(f"dense_gain needs m <= {_DENSE_LIMIT}, got m = {m}")
        gain = self.interference_gain(neighbours_only)[:, slot]
        dense = gain.new_zeros(m, m)
        dense[self.edge_index[1], self.edge_index[0]] = gain
        return dense

    def dense_shift(self, slot: int) -> Tensor:
        """Dense ``[m, m]`` graph shift operator :math:`S(t)` at ``slot`` (small networks)."""
        m = self.x.size(0)
        if m > _DENSE_LIMIT:
            raise ValueError(f"dense_shift needs m <= {_DENSE_LIMIT}, got m = {m}")
        dense = self.edge_weight.new_zeros(m, m)
        dense[self.edge_index[1], self.edge_index[0]] = self.edge_weight[:, slot]
        return dense


# weights_only loading (no arbitrary code): allow exactly the classes an episode pickles.
torch.serialization.add_safe_globals(
    [WirelessEpisode, DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]
)
