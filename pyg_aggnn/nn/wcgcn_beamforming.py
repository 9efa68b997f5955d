r"""The WCGCN of Shen et al. with vector outputs: beamforming for the MISO channel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pyg_aggnn._validation import check_choice, check_positive, check_positive_int
from pyg_aggnn.nn import shift
from pyg_aggnn.nn.beamforming_policy import BeamformingPolicy
from pyg_aggnn.nn.power_map import FLOOR_SLOPE
from pyg_aggnn.nn.wcgcn_conv import WCGCNConv
from pyg_aggnn.wireless.miso import _abs2

__all__ = ["WCGCNBeamforming", "BEAM_FEATURES", "compress_channel", "beam_normalize"]

#: Node inputs of :class:`WCGCNBeamforming`, with the number of reals each one takes.
BEAM_FEATURES = ("link_weight", "noise_power", "direct_channel")
#: Factor on the initial weights of the output layer: an untrained model's outputs lie
#: inside the unit ball (on K = 8 links, 200 steps reach 61 % of WMMSE with it, 55 %,
#: the level of maximum ratio transmission, without).
INIT_SCALE = 0.1


def compress_channel(channel: Tensor, reference: Tensor | float) -> Tensor:
    r"""Complex channels as real pairs, their norm compressed as the package compresses
    gains and their direction (every phase, the ratios between antennas) kept:

    .. math::
        c(h) = \frac{\log(1 + \|h\| / \eta)}{\|h\|}\, h \quad (c(0) = 0),

    with the reference amplitude :math:`\eta` (:func:`~pyg_aggnn.nn.shift.compress_gain`).

    Args:
        channel: ``[R, *S, N_t] complex``.
        reference: float or ``[R]`` reference amplitudes :math:`\eta > 0`.

    Returns:
        ``[R, *S, 2 N_t]`` real: ``Re h_1, Im h_1, Re h_2, ...``, compressed.
    """
    norm = _abs2(channel).sum(-1).sqrt()  # [R, *S]
    compressed = shift.compress_gain(norm, reference)
    scale = torch.where(norm > 0, compressed / norm.clamp_min(torch.finfo(norm.dtype).tiny), 0.0)
    pairs = torch.view_as_real(channel.resolve_conj())  # [R, *S, N_t, 2]
    return (pairs * scale[..., None, None]).flatten(-2)


class _FloorProjection(torch.autograd.Function):
    """``x / max(||x||, 1)`` whose gradient back into the ball is at least
    :data:`~pyg_aggnn.nn.power_map.FLOOR_SLOPE`.
    """

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        ctx.save_for_backward(x, norm)
        return x / norm.clamp_min(1.0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        x, norm = ctx.saved_tensors
        outside = norm > 1
        unit = x / norm.clamp_min(torch.finfo(x.dtype).tiny)
        radial = (unit * grad).sum(-1, keepdim=True)
        # on the sphere only the tangential part passes; descent moves x by -grad, so a
        # positive radial part asks for a smaller norm: that part keeps the floor slope
        tangential = (grad - unit * radial) / norm.clamp_min(1.0)
        back = unit * (FLOOR_SLOPE * radial.clamp_min(0.0))
        return torch.where(outside, tangential + back, grad)


def beam_normalize(x: Tensor, floor: bool = True) -> Tensor:
    r"""The paper's output map :math:`\sigma(x) = x / \max(\|x\|_2, 1)`, row-wise: inside
    the unit ball the identity, outside the projection onto the sphere.

    Outside the ball the exact gradient has no radial part, so a beamformer driven far
    out stays at full power whatever the loss asks (on the D2D network a model trained
    at ``lr=0.01`` sticks at the rate of full-power maximum ratio transmission). With
    ``floor`` (the default; the forward values are the same) the radial part that would
    move it back inside passes with the slope
    :data:`~pyg_aggnn.nn.power_map.FLOOR_SLOPE`, as the ``"floor"`` power map does for
    powers; the part that would push it further out is dropped.
    """
    if floor:
        return _FloorProjection.apply(x)
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    return x / norm.clamp_min(1.0)


class WCGCNBeamforming(BeamformingPolicy):
    r"""The wireless channel graph convolution network with vector outputs, the
    beamforming model of the "Graph Neural Networks for Scalable Radio Resource
    Management" paper (Shen, Shi, Zhang and Letaief; Section V-C, eq. (4)).

    Complex numbers enter and leave as pairs of reals. Link :math:`k` carries its static
    inputs :math:`\mathbf{u}_k` (default: the weight :math:`w_k`, the noise power
    :math:`\sigma_k^2` and the direct channel :math:`c(h_{kk})`, ``2 + 2 N_t`` reals) and
    its current beamformer state :math:`\mathbf{s}_k \in \mathbb{R}^{2 N_t}` (``0`` at
    the start); edge :math:`j \to k` carries :math:`\mathbf{e}_{jk} = c(h_{jk})`
    (:func:`compress_channel`: the norm compressed like every gain of the package, the
    phases kept) and exists when transmitter :math:`j` is closer than :math:`D` to
    receiver :math:`k` (``max_distance_m``). One :class:`~pyg_aggnn.nn.WCGCNConv`, with
    the same weights, is applied ``num_iterations`` times:

    .. math::
        \mathbf{x}_k^{(r)} = \mathrm{MLP}_2\Big(\Big[\mathbf{u}_k, \mathbf{s}_k^{(r-1)}
        \,\Big\|\, \max_{j:\, d(j, k) < D} \mathrm{MLP}_1([\mathbf{u}_j,
        \mathbf{s}_j^{(r-1)} \,\|\, \mathbf{e}_{jk}])\Big]\Big), \qquad
        \mathbf{s}_k^{(r)} = \frac{\mathbf{x}_k^{(r)}}{\max(\|\mathbf{x}_k^{(r)}\|_2, 1)},

    and the beamformer is :math:`v_k = \sqrt{p_{0,k}}\, \mathbf{s}_k^{(R)}` read as
    :math:`N_t` complex numbers, so :math:`\|v_k\|^2 \le p_{0,k}` by construction. The
    paper's sizes are the defaults: :math:`\mathrm{MLP}_1 = \{6 N_t, 64, 64\}`,
    :math:`\mathrm{MLP}_2 = \{64 + 4 N_t, 32, 2 N_t\}` count the direct channel and the
    state (:math:`2 N_t` each) and the edge channel; the weight and the noise, listed
    among the paper's node features, add one input each to both
    (``features=("direct_channel",)`` gives exactly the paper's widths). Relabelling the
    links permutes the output (tested). The output layer starts with weights scaled by
    :data:`INIT_SCALE`, so that an untrained model's outputs lie inside the unit ball, and
    the output map keeps a gradient back into it (``floor``); neither changes what a
    trained model computes.

    Args:
        num_antennas (int): :math:`N_t`. (default: :obj:`2`)
        features (list of str, optional): node inputs from :data:`BEAM_FEATURES`.
            (default: all three)
        max_distance_m (float, optional): :math:`D` in metres (the scenario's unit of
            ``tx_pos`` / ``rx_pos``); ``None`` keeps every candidate pair of the episode.
            On the paper's 50-link network :math:`D = 300` m keeps 23 % of the pairs, and
            centralized WMMSE restricted to them reaches 94 % of its rate on all pairs
            (98 % at 500 m, at twice the cost per step).
            (default: :obj:`300.0`)
        message_channels (list of int, optional): :math:`\mathrm{MLP}_1` sizes after
            the input. (default: :obj:`(64, 64)`)
        update_channels (list of int, optional): :math:`\mathrm{MLP}_2` hidden sizes (the
            output is :math:`2 N_t`). (default: :obj:`(32,)`)
        num_iterations (int, optional): :math:`R`. (default: :obj:`3`)
        gain_scale (float, optional): the reference :math:`\eta` of the compression
            (default: the episode's threshold ``eta0``, or ``1`` where it is ``0``, see
            :func:`~pyg_aggnn.nn.shift.gain_reference`).
        floor (bool, optional): keep a gradient back into the ball where an output is
            projected onto the sphere (:func:`beam_normalize`; the same forward values).
            (default: :obj:`True`)

    Shapes:
        - **input:** a (batched) MISO :class:`~pyg_aggnn.data.WirelessEpisode`
          (:class:`~pyg_aggnn.wireless.MISOD2D`)
        - **output:** beamformers :math:`(N, N_t)` complex, or :math:`(N, T, N_t)` with
          ``all_slots=True``
    """

    def __init__(
        self,
        num_antennas: int = 2,
        features: Sequence[str] = BEAM_FEATURES,
        max_distance_m: float | None = 300.0,
        message_channels: Sequence[int] = (64, 64),
        update_channels: Sequence[int] = (32,),
        num_iterations: int = 3,
        gain_scale: float | None = None,
        floor: bool = True,
    ):
        super().__init__(num_antennas)
        if isinstance(features, str) or len(features) == 0:
            raise ValueError(
                f"features must be a non-empty list of names from {list(BEAM_FEATURES)}, "
                f"got {features!r}"
            )
        self.features = tuple(check_choice("features", f, BEAM_FEATURES) for f in features)
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features must not repeat a name, got {list(features)!r}")
        self.max_distance_m = (
            None if max_distance_m is None else check_positive("max_distance_m", max_distance_m)
        )
        self.num_iterations = check_positive_int("num_iterations", num_iterations)
        self.gain_scale = None if gain_scale is None else check_positive("gain_scale", gain_scale)
        if not isinstance(floor, bool):
            raise ValueError(f"floor must be a bool, got {floor!r}")
        self.floor = floor
        width = 2 * self.num_antennas
        self.in_channels = sum(width if f == "direct_channel" else 1 for f in self.features)
        self.conv = WCGCNConv(
            self.in_channels + width,
            width,
            message_channels=message_channels,
            update_channels=[*update_channels, width],
        )
        self.reset_parameters()

    @classmethod
    def paper(cls, num_antennas: int = 2, **kwargs) -> WCGCNBeamforming:
        """The paper's sizes: MLP1 {6 N_t, 64, 64}, MLP2 {64 + 4 N_t, 32, 2 N_t} (plus one
        input each for the weight and the noise), 3 iterations of shared weights.
        """
        return cls(num_antennas, **kwargs)

    def reset_parameters(self):
        self.conv.reset_parameters()
        # an untrained model starts inside the unit ball, where the gradient passes in
        # every direction (outside, only the tangential part and the floor do)
        with torch.no_grad():
            last = self.conv.mlp2.lins[-1]
            last.weight.mul_(INIT_SCALE)
            if last.bias is not None:
                last.bias.mul_(INIT_SCALE)

    def graph(self, batch) -> Tensor:
        """``[E']`` indices of the candidate edges ``j -> k`` (``j != k``) whose transmitter
        is closer than :math:`D` to the receiver (all of them with ``max_distance_m=None``).
        """
        src, dst = batch.edge_index
        keep = src != dst
        if self.max_distance_m is not None:
            receiver = batch.rx_pos[batch.receiver[dst]]  # [E, 2]
            distance = torch.linalg.vector_norm(batch.tx_pos[src] - receiver, dim=1)
            keep &= distance < self.max_distance_m
        return keep.nonzero().squeeze(1)

    def node_inputs(self, batch, slots: slice) -> Tensor:
        """``[N, S, F]`` static inputs :math:`\\mathbf{u}_k` of the slots ``slots``."""
        direct = batch.direct_channel[:, slots]  # [N, S, N_t]
        num_nodes, count = direct.shape[:2]
        dtype = batch.x.dtype
        columns = []
        for name in self.features:
            if name == "direct_channel":
                reference = shift.node_reference(batch, self.gain_scale)
                columns.append(compress_channel(direct, reference).to(dtype))
            else:
                value = batch.link_weight if name == "link_weight" else batch.noise_power
                columns.append(value.to(dtype)[:, None, None].expand(num_nodes, count, 1))
        return torch.cat(columns, dim=-1)

    def beamformers(self, batch, all_slots: bool = False) -> Tensor:
        self.check_batch(batch)
        num_nodes, num_slots = batch.x.shape[:2]
        slots = slice(0, num_slots) if all_slots else slice(num_slots - 1, num_slots)
        count = num_slots if all_slots else 1
        u = self.node_inputs(batch, slots)  # [N, S, F]
        u = u.transpose(0, 1).reshape(count * num_nodes, -1)  # slot-major stacked graphs
        edges = self.graph(batch)  # [E']
        reference = shift.node_reference(batch, self.gain_scale)[batch.edge_index[1, edges]]
        channel = batch.edge_channel[edges, slots]  # [E', S, N_t]
        attr = compress_channel(channel, reference).to(u.dtype)  # [E', S, 2 N_t]
        attr = attr.transpose(0, 1).reshape(-1, attr.size(-1))  # slot-major
        offset = torch.arange(count, device=u.device).repeat_interleave(edges.numel())
        edge_index = batch.edge_index[:, edges].repeat(1, count) + offset * num_nodes
        state = u.new_zeros(count * num_nodes, 2 * self.num_antennas)
        for _ in range(self.num_iterations):
            out = self.conv(torch.cat([u, state], dim=1), edge_index, attr)
            state = beam_normalize(out, self.floor)
        power = batch.max_power.to(u.dtype).repeat(count).sqrt()[:, None]
        beams = torch.view_as_complex((state * power).reshape(-1, self.num_antennas, 2))
        beams = beams.view(count, num_nodes, self.num_antennas).transpose(0, 1)  # [N, S, N_t]
        return beams if all_slots else beams[:, 0]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_antennas={self.num_antennas}, "
            f"features={list(self.features)}, max_distance_m={self.max_distance_m}, "
            f"iterations={self.num_iterations}, conv={self.conv})"
        )
