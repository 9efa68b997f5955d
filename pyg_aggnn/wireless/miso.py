r"""The physics of the MISO interference channel (beamforming), written once.

``K`` links; transmitter :math:`j` has :math:`N_t` antennas and sends :math:`v_j s_j`
with the beamformer :math:`v_j \in \mathbb{C}^{N_t}`; receiver :math:`k` has one antenna
and hears (the WCGCN paper's eq. (4))

.. math::
    y_k = h_{kk}^H v_k s_k + \sum_{j \ne k} h_{jk}^H v_j s_j + n_k,
    \qquad n_k \sim \mathcal{CN}(0, \sigma_k^2),

    \mathrm{SINR}_k = \frac{|h_{kk}^H v_k|^2}{\sum_{j \ne k} |h_{jk}^H v_j|^2 + \sigma_k^2},
    \qquad f_k = \log(1 + \mathrm{SINR}_k),

where :math:`h_{jk} \in \mathbb{C}^{N_t}` is the channel from transmitter :math:`j` to
receiver :math:`k`. The transmit power of link :math:`k` is :math:`\|v_k\|^2`. With
:math:`N_t = 1` and :math:`|v_k|^2 = p_k` this is exactly the scalar SINR of
:mod:`pyg_aggnn.wireless.physics` (tested).

Every rate, power and objective of a beamforming allocation in the package (the
training loss, the metrics, WMMSE beamforming and the tests) comes from this module.
All functions work on the sparse edge list of a (batched)
:class:`~pyg_aggnn.data.WirelessEpisode`, on CPU or CUDA, and are differentiable in
``beams``. The weighted sum rate of a network is :func:`pyg_aggnn.wireless.physics.sum_rate`
of :func:`rate` (:func:`weighted_sum_rate` does both).

Conventions (complex tensors; ``complex64`` for ``float32`` episodes):

* ``beams: [N, *S, N_t] complex``: beamformer :math:`v_k` of every link (linear
  amplitude; :math:`\|v_k\|^2` in the unit of ``noise_power``); ``*S`` are slots and
  samples.
* ``edge_index: [2, E] long``: edge ``j -> k`` (``edge_index[0] = j`` the transmitter,
  ``edge_index[1] = k`` the receiver's link). Self loops may be present; they never
  count as interference.
* ``edge_channel: [E, *S', N_t] complex``: :math:`h_{jk}` of every edge; the received
  amplitude is :math:`h_{jk}^H v_j = \sum_n \overline{h_{jk,n}}\, v_{j,n}`. ``*S'``
  are leading dimensions of ``*S`` (e.g. slots ``[T]`` against beams ``[T, samples]``).
* ``direct_channel: [N, *S', N_t] complex``: :math:`h_{kk}`.
* ``noise_power``: :math:`\sigma_k^2 > 0`, float or ``[N]``.
* Rates in nats per channel use.

Public functions check their arguments and raise ``ValueError`` naming the argument:
complex tensors of the documented shapes with finite entries, channel components at most
:func:`~pyg_aggnn._validation.amplitude_limit` of the real dtype, edge indices in range.
The package's hot paths validate once and call the unchecked ``_sinr`` and ``_rate``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_aggnn._validation import amplitude_limit, check_values
from pyg_aggnn.wireless import _physics_checks as _checks
from pyg_aggnn.wireless.physics import _align, _sum_rate

__all__ = [
    "beam_power",
    "received_power",
    "sinr",
    "rate",
    "weighted_sum_rate",
    "transmit_power",
    "num_antennas",
    "check_complex",
]


def num_antennas(data) -> int:
    """Transmit antennas :math:`N_t` of an episode or batch: ``edge_channel.size(-1)``, or
    ``1`` for an episode without complex channels (single-antenna power control).
    """
    channel = getattr(data, "edge_channel", None)
    return 1 if channel is None else int(channel.size(-1))


def check_complex(name: str, value: object, shape: str, min_dim: int = 2) -> Tensor:
    """Return ``value`` if it is a complex tensor of at least ``min_dim`` dimensions;
    ``shape`` describes the expected shape in the message.
    """
    if not isinstance(value, Tensor) or not value.is_complex() or value.dim() < min_dim:
        got = (
            f"{value.dtype} tensor of shape {list(value.shape)}"
            if isinstance(value, Tensor)
            else type(value).__name__
        )
        raise ValueError(f"{name} must be a complex tensor of shape {shape}, got {got}")
    return value


def _real_view(value: Tensor) -> Tensor:
    return torch.view_as_real(value.resolve_conj())


def _abs2(value: Tensor) -> Tensor:
    """:math:`|z|^2` without a square root (smooth at zero, unlike ``abs``)."""
    return value.real.square() + value.imag.square()


def _to_beams(channel: Tensor, beams: Tensor) -> Tensor:
    """Insert singleton dims before the antenna axis so ``channel`` broadcasts on ``beams``."""
    extra = beams.dim() - channel.dim()
    if extra <= 0:
        return channel
    return channel.reshape(*channel.shape[:-1], *([1] * extra), channel.size(-1))


def _beam_power(beams: Tensor) -> Tensor:
    return _abs2(beams).sum(-1)


def beam_power(beams: Tensor) -> Tensor:
    r"""Transmit power :math:`\|v_k\|^2` of every beamformer.

    Args:
        beams: ``[N, *S, N_t] complex`` beamformers, finite.

    Returns:
        ``[N, *S]`` real powers (linear).
    """
    check_complex("beams", beams, "[N, *S, N_t]")
    check_values(("beams", _real_view(beams)))
    return _beam_power(beams)


def transmit_power(allocation: Tensor) -> Tensor:
    r"""Transmit powers ``[N, *S]`` of an allocation: the powers themselves (a real
    ``[N, *S]`` tensor), or :math:`\|v_k\|^2` of complex beamformers ``[N, *S, N_t]``
    (no checks: the package's hot paths call it on what they computed).
    """
    return _beam_power(allocation) if allocation.is_complex() else allocation


def _received(beams: Tensor, source: Tensor | None, channel: Tensor) -> Tensor:
    """:math:`|h^H v_{\text{source}}|^2` per row of ``channel`` (``source=None``: row-wise)."""
    v = beams if source is None else beams[source]  # [E, *S, N_t]
    amplitude = (_to_beams(channel, v).conj() * v).sum(-1)  # [E, *S]
    return _abs2(amplitude)


def _sinr(
    beams: Tensor,
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    noise_power: float | Tensor,
) -> Tensor:
    src, dst = edge_index
    received = _received(beams, src, edge_channel)  # [E, *S]
    cross = _align((src != dst).to(received.dtype), received)
    interference = scatter(received * cross, dst, dim=0, dim_size=beams.size(0), reduce="sum")
    signal = _received(beams, None, direct_channel)  # [N, *S]
    if isinstance(noise_power, Tensor):
        noise_power = _align(noise_power.to(signal.dtype), signal)
    return signal / (noise_power + interference)


def _rate(
    beams: Tensor,
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    noise_power: float | Tensor,
) -> Tensor:
    return torch.log1p(_sinr(beams, direct_channel, edge_index, edge_channel, noise_power))


def _check_channel_like(name: str, value: object, leading: int, symbol: str, beams: Tensor):
    check_complex(name, value, f"[{symbol}, *S, N_t]")
    if value.size(0) != leading or value.dim() > beams.dim():
        raise ValueError(
            f"{name} must have shape [{symbol}, *S, N_t] with {symbol} = {leading} and *S "
            f"leading dimensions of beams' {list(beams.shape[1:-1])}, got {list(value.shape)}"
        )
    if value.size(-1) != beams.size(-1):
        raise ValueError(
            f"{name} must have N_t = {beams.size(-1)} antennas (the last dimension of "
            f"beams), got {value.size(-1)} (shape {list(value.shape)})"
        )
    head = tuple(beams.shape[1 : value.dim() - 1])
    try:
        torch.broadcast_shapes(tuple(value.shape[1:-1]), head)
    except RuntimeError:
        raise ValueError(
            f"{name} of shape {list(value.shape)} must broadcast against beams "
            f"{list(beams.shape)} (dimensions between the first and the antenna axis)"
        ) from None


def check_miso(beams, direct_channel, edge_index, edge_channel, noise_power) -> None:
    """Validate everything :func:`sinr` and :func:`rate` receive, with one sync."""
    check_complex("beams", beams, "[N, *S, N_t]")
    num_nodes = beams.size(0)
    _check_channel_like("direct_channel", direct_channel, num_nodes, "N", beams)
    edge_index = _checks.check_index(edge_index, num_nodes)
    _check_channel_like("edge_channel", edge_channel, edge_index.size(1), "E", beams)
    real = beams.real
    noise = _checks.check_noise(noise_power, real[..., 0])
    limit = amplitude_limit(real.dtype)
    check_values(
        ("beams", _real_view(beams)),
        ("direct_channel", _real_view(direct_channel), -limit, limit),
        ("edge_channel", _real_view(edge_channel), -limit, limit),
        ("edge_index", edge_index, 0, num_nodes - 1),
        *noise,
    )


def sinr(
    beams: Tensor,
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    noise_power: float | Tensor = 1.0,
) -> Tensor:
    r"""MISO SINR of every link (module docstring, eq. (4) of the WCGCN paper).

    Which interferers count is decided by the caller through ``edge_channel``: every
    materialized pair (physically complete) or only above-threshold ones, see
    :meth:`~pyg_aggnn.data.WirelessEpisode.rates`.

    Args:
        beams: ``[N, *S, N_t] complex`` beamformers :math:`v_k`.
        direct_channel: ``[N, *S', N_t] complex`` direct channels :math:`h_{kk}`.
        edge_index: ``[2, E]`` edges ``j -> k``.
        edge_channel: ``[E, *S', N_t] complex`` channels :math:`h_{jk}`.
        noise_power: :math:`\sigma_k^2 > 0`, float or ``[N]`` (default: ``1.0``).

    Returns:
        ``[N, *S]`` SINR (linear, real).
    """
    check_miso(beams, direct_channel, edge_index, edge_channel, noise_power)
    return _sinr(beams, direct_channel, edge_index, edge_channel, noise_power)


def rate(
    beams: Tensor,
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    noise_power: float | Tensor = 1.0,
) -> Tensor:
    r"""Shannon rate :math:`f_k = \log(1 + \mathrm{SINR}_k)` in nats, ``[N, *S]``.

    Arguments as in :func:`sinr`.
    """
    check_miso(beams, direct_channel, edge_index, edge_channel, noise_power)
    return _rate(beams, direct_channel, edge_index, edge_channel, noise_power)


def weighted_sum_rate(
    beams: Tensor,
    direct_channel: Tensor,
    edge_index: Tensor,
    edge_channel: Tensor,
    noise_power: float | Tensor = 1.0,
    weight: Tensor | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""Weighted sum rate :math:`\sum_k w_k f_k` of every network, ``[B, *S]``.

    :func:`rate` summed by :func:`pyg_aggnn.wireless.physics.sum_rate`; ``weight``
    (``[N]``, :math:`w_k \ge 0`, default ones), ``batch`` (``[N] long``, default one
    network) and ``num_graphs`` as there.
    """
    rates = rate(beams, direct_channel, edge_index, edge_channel, noise_power)
    check_values(
        *_checks.check_weight(weight, rates),
        *_checks.graph_checks(batch, num_graphs, rates.size(0)),
    )
    return _sum_rate(rates, batch, weight, num_graphs)


def received_power(beams: Tensor, edge_index: Tensor, edge_channel: Tensor) -> Tensor:
    r"""Power :math:`|h_{jk}^H v_j|^2` that edge ``j -> k`` carries, ``[E, *S]``.

    Args:
        beams: ``[N, *S, N_t] complex`` beamformers.
        edge_index: ``[2, E]`` edges ``j -> k``.
        edge_channel: ``[E, *S', N_t] complex`` channels.
    """
    check_complex("beams", beams, "[N, *S, N_t]")
    edge_index = _checks.check_index(edge_index, beams.size(0))
    _check_channel_like("edge_channel", edge_channel, edge_index.size(1), "E", beams)
    limit = amplitude_limit(beams.real.dtype)
    check_values(
        ("beams", _real_view(beams)),
        ("edge_channel", _real_view(edge_channel), -limit, limit),
        ("edge_index", edge_index, 0, beams.size(0) - 1),
    )
    return _received(beams, edge_index[0], edge_channel)
