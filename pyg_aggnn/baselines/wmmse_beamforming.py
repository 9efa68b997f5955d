r"""WMMSE beamforming for the MISO interference channel (Shi et al., 2011), batched and sparse."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_aggnn._validation import (
    amplitude_limit,
    check_choice,
    check_positive,
    check_positive_int,
    check_values,
)
from pyg_aggnn.baselines._beam_operators import OuterOperator, v_step
from pyg_aggnn.baselines._common import (
    check_edge_index,
    draw_uniform,
    per_node,
    resolve_batch,
)
from pyg_aggnn.baselines.base import Baseline
from pyg_aggnn.baselines.max_ratio import max_ratio_transmission
from pyg_aggnn.data.batching import batch_vector
from pyg_aggnn.wireless import miso

__all__ = ["wmmse_beamforming", "WMMSEBeamforming"]

_INITS = ("full", "random")
_MODES = ("centralized", "local")
# Above this many (edge, slot, antenna) entries, WMMSEBeamforming.decide runs the slots
# in several calls.
_CHUNK_ENTRIES = 2**22


def _initial(init, direct: Tensor, cap: Tensor, generator, shape: tuple) -> Tensor:
    """Initial beamformers ``[n, N_t]`` (node-slot layout) from ``init``."""
    n, antennas = direct.shape
    if isinstance(init, Tensor):
        miso.check_complex("init", init, "[N, *S, N_t]")
        if tuple(init.shape) not in (shape, (shape[0], antennas)):
            raise ValueError(
                f"init must have shape [N, N_t] = {[shape[0], antennas]} or [N, *S, N_t] = "
                f"{list(shape)}, got {list(init.shape)}"
            )
        check_values(("init", miso._real_view(init)))
        init = init.to(direct).reshape(shape[0], -1, antennas)
        return init.expand(shape[0], n // shape[0], antennas).reshape(n, antennas)
    check_choice("init", init, _INITS)
    if init == "full":
        return max_ratio_transmission(direct, cap)
    real = direct.real
    gaussian = torch.randn(
        (n, antennas, 2), generator=generator, dtype=real.dtype, device=generator.device
    )
    direction = torch.view_as_complex(gaussian.to(real.device))
    direction = direction / miso._abs2(direction).sum(-1, keepdim=True).sqrt()
    power = cap * draw_uniform((n,), generator, real)
    return direction * power.sqrt()[:, None].to(direct.dtype)


def wmmse_beamforming(
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    max_power: float | Tensor = 1.0,
    noise_power: float | Tensor = 1.0,
    link_weight: Tensor | None = None,
    *,
    num_iters: int = 100,
    tol: float | None = None,
    init: str | Tensor = "full",
    generator: torch.Generator | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""WMMSE beamforming of the MISO interference channel (Shi, Razaviyayn, Luo and He,
    2011) for many networks and slots at once.

    Block-coordinate descent on the weighted MMSE problem, whose stationary points are
    those of the weighted sum rate :math:`\sum_k w_k \log(1 + \mathrm{SINR}_k)`
    (:mod:`pyg_aggnn.wireless.miso`) under :math:`\|v_k\|^2 \le P_k`. With weights
    :math:`w_k` (``link_weight``), one iteration is

    .. math::
        u_k &= \frac{h_{kk}^H v_k}{\sum_j |h_{jk}^H v_j|^2 + \sigma_k^2}, \qquad
        \omega_k = \frac{1}{1 - \bar u_k h_{kk}^H v_k} = 1 + \mathrm{SINR}_k, \\
        v_k &= w_k \omega_k u_k \Big(\sum_j w_j \omega_j |u_j|^2\, h_{kj} h_{kj}^H
               + \mu_k I\Big)^{-1} h_{kk},

    where the sums run over the pairs present in ``edge_index`` (and the direct link),
    and :math:`\mu_k \ge 0` is zero if that beamformer meets :math:`P_k`, otherwise the
    multiplier with :math:`\|v_k\|^2 = P_k`, found by a monotone Newton search on the
    eigenvalues of the :math:`N_t \times N_t` matrix (the constraint then holds exactly,
    to rounding). Every step minimises the WMMSE cost
    :math:`\sum_k w_k(\omega_k e_k - \log \omega_k)` exactly, so the weighted sum rate on
    the same pairs never decreases. A link of weight zero is switched off. With
    :math:`N_t = 1` this is :func:`~pyg_aggnn.baselines.wmmse` (``budget="none"``) with
    :math:`p_k = |v_k|^2` (tested).

    Everything is sparse: the (edge, slot) pairs with a non-zero channel are gathered once
    and every iteration costs :math:`O((E + N) N_t^2)` per slot, with nothing of size
    :math:`K \times K`.

    Args:
        direct_channel: ``[N, *S, N_t] complex`` direct channels :math:`h_{kk}`; ``*S``
            are independent problems (slots, samples).
        edge_index: ``[2, E] long`` pairs ``j -> k``; self loops are ignored.
        edge_channel: ``[E, *S, N_t]`` (or ``[E, N_t]``) ``complex`` channels
            :math:`h_{jk}`; a zero channel is an absent pair.
        max_power: per-transmitter power :math:`P_k > 0`, float or ``[N]``
            (default: ``1.0``).
        noise_power: :math:`\sigma_k^2 > 0`, float or ``[N]`` (default: ``1.0``).
        link_weight: ``[N]`` weights :math:`w_k \ge 0` (default: ones).
        num_iters: number of iterations, or the maximum with ``tol`` (default: ``100``).
        tol: stop a network (and slot) once :math:`\max_k |\|v_k^{(i+1)}\|^2 -
            \|v_k^{(i)}\|^2| \le` ``tol``; it is then frozen, so the result does not
            depend on the rest of the batch (default: ``None``, run ``num_iters``).
        init: ``"full"`` (maximum ratio transmission at full power,
            :func:`~pyg_aggnn.baselines.max_ratio_transmission`), ``"random"`` (a uniform
            direction at a power uniform in :math:`[0, P_k]`, from ``generator``) or a
            ``[N, N_t]`` / ``[N, *S, N_t]`` complex tensor (default: ``"full"``).
        generator: random stream of ``init="random"`` (default: torch's).
        batch: ``[N] long`` network of every link (default: one network).
        num_graphs: number of networks ``B`` (default: ``batch.max() + 1``).

    Returns:
        ``[N, *S, N_t] complex`` beamformers, in the dtype and on the device of
        ``direct_channel`` (computed in ``complex128``: a beamformer that nulls an
        interferer leaves a received power far below the products it is computed from).
    """
    miso.check_complex("direct_channel", direct_channel, "[N, *S, N_t]")
    num_nodes, antennas = direct_channel.size(0), direct_channel.size(-1)
    shape = tuple(direct_channel.shape)
    s = math.prod(shape[1:-1])
    edge_index = check_edge_index(edge_index, num_nodes)
    num_edges = edge_index.size(1)
    miso.check_complex("edge_channel", edge_channel, "[E, *S, N_t]")
    if edge_channel.dim() == 2 and len(shape) > 2:
        edge_channel = edge_channel.reshape(num_edges, *([1] * (len(shape) - 2)), antennas)
        edge_channel = edge_channel.expand(num_edges, *shape[1:])
    if edge_channel.shape != (num_edges, *shape[1:]):
        raise ValueError(
            f"edge_channel must have shape [E, N_t] or [E, *S, N_t] = "
            f"{[num_edges, *shape[1:]]} (matching direct_channel), got {list(edge_channel.shape)}"
        )
    limit = amplitude_limit(direct_channel.real.dtype)
    check_values(
        ("direct_channel", miso._real_view(direct_channel), -limit, limit),
        ("edge_channel", miso._real_view(edge_channel), -limit, limit),
    )
    # float64 inside: the interference of a nulled interferer, |h^H v|^2 << |h|^2 |v|^2,
    # is a difference of terms that float32 cannot resolve against the noise
    out_dtype = direct_channel.dtype
    direct_channel = direct_channel.to(torch.complex128)
    edge_channel = edge_channel.to(torch.complex128)
    real = direct_channel.real
    num_iters = check_positive_int("num_iters", num_iters)
    tol = None if tol is None else check_positive("tol", tol)
    batch, num_graphs = resolve_batch(num_nodes, batch, num_graphs, direct_channel.device)
    cap = per_node("max_power", max_power, num_nodes, real, positive=True)
    noise = per_node("noise_power", noise_power, num_nodes, real, positive=True)
    alpha = per_node("link_weight", 1.0 if link_weight is None else link_weight, num_nodes, real)

    # node-slot layout: unit n * s + k is link n at problem k
    direct = direct_channel.reshape(num_nodes * s, antennas)
    expand = lambda value: value[:, None].expand(num_nodes, s).reshape(-1)  # noqa: E731
    cap, noise, alpha = expand(cap), expand(noise), expand(alpha)
    problem = (batch[:, None] * s + torch.arange(s, device=batch.device)).reshape(-1)
    src, dst = edge_index
    cross = src != dst
    channel = edge_channel.reshape(num_edges, s, antennas)[cross]  # [E', s, N_t]
    edge, slot = (miso._abs2(channel).sum(-1) > 0).nonzero(as_tuple=True)
    tx, rx = src[cross][edge] * s + slot, dst[cross][edge] * s + slot
    op = OuterOperator(channel[edge, slot], tx, rx, num_nodes * s)
    own = direct[:, :, None] * direct[:, None, :].conj()  # h_kk h_kk^H, [n, N_t, N_t]

    v = _initial(init, direct, cap, generator or torch.default_generator, shape)
    done = None if tol is None else torch.zeros(num_graphs * s, dtype=torch.bool)
    done = None if done is None else done.to(direct.device)
    for _ in range(num_iters):
        quiet = op.interference(v).add_(noise)  # sigma^2 + sum_j |h_jk^H v_j|^2
        signal = (direct.conj() * v).sum(-1)  # h_kk^H v_k
        total = quiet + miso._abs2(signal)
        u = signal / total
        omega = total / quiet  # 1 / MMSE = 1 + SINR
        c = alpha * omega * miso._abs2(u)  # w_k omega_k |u_k|^2
        matrix = op.transmit_side(c) + own * c[:, None, None].to(own.dtype)
        target = (alpha * omega).to(u.dtype)[:, None] * u[:, None] * direct
        v_new = v_step(matrix, target, cap)
        if done is not None:
            change = (miso._abs2(v_new).sum(-1) - miso._abs2(v).sum(-1)).abs()
            change = scatter(change, problem, 0, dim_size=num_graphs * s, reduce="max")
            v_new = torch.where(done[problem][:, None], v, v_new)
            done = done | (change <= tol)
            v = v_new
            if bool(done.all()):
                break
        else:
            v = v_new
    return v.reshape(shape).to(out_dtype)


class WMMSEBeamforming(Baseline):
    r"""WMMSE beamforming as a policy: :func:`wmmse_beamforming` on every decision slot
    of a MISO episode (:class:`~pyg_aggnn.wireless.MISOD2D`).

    * ``mode="centralized"``: every candidate pair of the episode (``edge_channel``, the
      physically complete interference), ``num_iters=100`` by default, or until
      converged with ``tol``.
    * ``mode="local"``: only the pairs of the slot's graph (the non-zero
      ``edge_weight``: active transmitters heard above :math:`\eta_0`), exactly
      ``num_iters`` iterations (default: ``5``), each one exchange with the neighbours.

    Every transmitter meets its own power :math:`\|v_k\|^2 \le p_{0,k}` (``max_power``)
    exactly; there is no total budget. Returns ``[N, T, N_t] complex`` beamformers, held
    between decisions as :class:`Baseline` does with powers; the rates are
    ``batch.rates(beams)`` (:mod:`pyg_aggnn.wireless.miso`).

    Args:
        mode: ``"centralized"`` or ``"local"`` (default: ``"centralized"``).
        num_iters: iterations per decision (default: ``None``: 100 centralized, 5 local).
        tol: centralized only, see :func:`wmmse_beamforming` (default: ``None``).
        init: ``"full"`` or ``"random"`` (default: ``"full"``).
        update_every, when_active: see :class:`Baseline`.
    """

    beamforming = True

    def __init__(
        self,
        mode: str = "centralized",
        num_iters: int | None = None,
        tol: float | None = None,
        init: str = "full",
        update_every: int = 1,
        when_active: bool = False,
    ):
        super().__init__(update_every=update_every, when_active=when_active)
        self.mode = check_choice("mode", mode, _MODES)
        default = 100 if mode == "centralized" else 5
        self.num_iters = check_positive_int(
            "num_iters", default if num_iters is None else num_iters
        )
        if tol is not None and mode == "local":
            raise ValueError(
                f"tol must be None with mode='local' (exactly num_iters exchanges), got {tol!r}"
            )
        self.tol = None if tol is None else check_positive("tol", tol)
        self.init = check_choice("init", init, _INITS)

    def decide(self, batch, slots: Tensor, generator: torch.Generator | None) -> Tensor:
        if getattr(batch, "edge_channel", None) is None:
            raise ValueError(
                "batch must carry complex channels (edge_channel, direct_channel) for "
                "WMMSEBeamforming: simulate it with a multi-antenna scenario such as MISOD2D"
            )
        vector, num_graphs = batch_vector(batch)
        channel = batch.edge_channel
        if self.mode == "local":
            in_graph = batch.edge_weight > 0  # [E, T]
            channel = channel * in_graph[..., None].to(channel.real.dtype)
        chunk = max(1, _CHUNK_ENTRIES // max(channel.size(0) * channel.size(-1), 1))
        out = []
        for part in slots.split(chunk):
            out.append(
                wmmse_beamforming(
                    batch.direct_channel[:, part],
                    batch.edge_index,
                    channel[:, part],
                    batch.max_power,
                    batch.noise_power,
                    batch.link_weight,
                    num_iters=self.num_iters,
                    tol=self.tol,
                    init=self.init,
                    generator=generator,
                    batch=vector,
                    num_graphs=num_graphs,
                )
            )
        return torch.cat(out, dim=1)

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode!r}, num_iters={self.num_iters}, tol={self.tol}, "
            f"init={self.init!r}, {super().extra_repr()}"
        )
