"""The one power policy interface shared by every model, and the Bernoulli power law."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from pyg_aggnn._validation import amplitude_limit, check_shape, check_values
from pyg_aggnn.nn.power_map import sigmoid_power
from pyg_aggnn.wireless.miso import num_antennas

__all__ = ["PowerPolicy", "BernoulliPower"]

# What every model reads from a (batched) WirelessEpisode.
_FIELDS = ("x", "edge_index", "edge_weight", "direct_gain", "active", "link_weight", "eta0")


class PowerPolicy(nn.Module):
    """Base class of every allocation model.

    A subclass implements :meth:`logits`; the transmit probability is
    ``sigmoid(logits)``. Models see a (batched) :class:`~pyg_aggnn.data.WirelessEpisode`
    and decide, for every link, at the *decision slot* (the last slot of the episode) or,
    with ``all_slots=True``, at every slot (what asynchronous training needs: a node
    holds the decision of its last active slot).

    A power policy decides one power per link, so it refuses multi-antenna episodes
    (``N_t > 1``, :class:`~pyg_aggnn.wireless.MISOD2D`) with a ``ValueError``;
    beamforming policies (:class:`~pyg_aggnn.nn.BeamformingPolicy`) set
    :attr:`beamforming` and output beamformers instead.
    """

    #: Whether the policy outputs beamformers (``N_t`` complex numbers per link)
    #: rather than one power per link.
    beamforming = False

    def logits(self, batch, all_slots: bool = False) -> Tensor:
        """Return ``[N]`` logits at the last slot, or ``[N, T]`` at every slot.

        Implementations start with :meth:`check_batch`.
        """
        raise NotImplementedError

    def check_batch(self, batch) -> None:
        """Check what a model reads from ``batch``; raise ``ValueError`` naming the field.

        Shapes of every field (``x: [N, T, F]`` with ``F = state_channels`` when the model
        reads the state, ``direct_gain`` and ``active: [N, T]``, ``link_weight: [N]``,
        ``edge_index: [2, E]``, ``edge_weight`` and ``edge_gain: [E, T]``), and the values
        of the per-link inputs with one reduction per tensor, read back together
        (:func:`~pyg_aggnn._validation.check_values`): ``x`` finite, ``direct_gain``
        finite, ``>= 0`` and at most :func:`~pyg_aggnn._validation.amplitude_limit`,
        ``link_weight`` finite and ``>= 0``. The ``[E, T]`` edge tensors (and the index range of ``edge_index``) are
        checked once, by :meth:`~pyg_aggnn.data.WirelessEpisode.validate` when the
        episode is built: reading them again would cost as much as a diffusion hop.
        """
        fields = {name: getattr(batch, name, None) for name in _FIELDS}
        missing = [name for name, value in fields.items() if value is None]
        if missing:
            raise ValueError(
                f"batch must be a (batched) WirelessEpisode, got {type(batch).__name__} "
                f"without {missing}"
            )
        antennas = num_antennas(batch)
        if antennas > 1 and not self.beamforming:
            raise ValueError(
                f"{type(self).__name__} decides one power per link and does not support "
                f"N_t > 1 transmit antennas; the batch has N_t = {antennas} (use a "
                "beamforming policy such as pyg_aggnn.nn.WCGCNBeamforming)"
            )
        x = fields["x"]
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 3:
            got = f"{x.dtype} {list(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"batch.x must be a floating [N, T, F] tensor, got {got}")
        num_nodes, num_slots, channels = x.shape
        if num_slots == 0:
            raise ValueError(f"batch.x must hold at least one slot, got shape {list(x.shape)}")
        features = getattr(self, "features", ())
        expected = getattr(self, "state_channels", None)
        if "state" in features and channels != expected:
            raise ValueError(
                f"batch.x must have state_channels={expected} state features per link and "
                f"slot (as {type(self).__name__} was built), got {channels} "
                f"(x of shape {list(x.shape)})"
            )
        check_shape("batch.direct_gain", fields["direct_gain"], [num_nodes, num_slots])
        check_shape("batch.active", fields["active"], [num_nodes, num_slots])
        check_shape("batch.link_weight", fields["link_weight"], [num_nodes])
        edge_index = check_shape("batch.edge_index", fields["edge_index"], [2, None])
        num_edges = edge_index.size(1)
        check_shape("batch.edge_weight", fields["edge_weight"], [num_edges, num_slots])
        edge_gain = getattr(batch, "edge_gain", None)
        if edge_gain is not None:
            check_shape("batch.edge_gain", edge_gain, [num_edges, num_slots])
        check_values(
            ("batch.x", x),
            ("batch.direct_gain", fields["direct_gain"], 0.0, amplitude_limit(x.dtype)),
            ("batch.link_weight", fields["link_weight"], 0.0),
        )

    def forward(self, batch, all_slots: bool = False) -> Tensor:
        """Transmit probability :math:`\\pi_i \\in (0, 1)`, ``[N]`` or ``[N, T]``."""
        return torch.sigmoid(self.logits(batch, all_slots=all_slots))


def uniform_draws(
    logits: Tensor, generator: torch.Generator | None = None, uniform: Tensor | None = None
) -> Tensor:
    """Uniform draws in ``[0, 1)`` of the shape, dtype and device of ``logits``: the given
    ``uniform`` (keyed random streams) or new ones from ``generator``.
    """
    if uniform is None:
        uniform = torch.rand(logits.shape, generator=generator, dtype=logits.dtype)
    elif uniform.shape != logits.shape:
        raise ValueError(f"uniform must have shape {list(logits.shape)}, got {list(uniform.shape)}")
    return uniform.to(device=logits.device, dtype=logits.dtype)


class BernoulliPower:
    r"""The stochastic binary power policy :math:`p_i = p_{0,i}\,\mathrm{Bernoulli}(\pi_i)`.

    Built from logits for numerical stability: :math:`\log \pi = -\mathrm{softplus}(-z)`,
    :math:`\log(1 - \pi) = -\mathrm{softplus}(z)`.

    Args:
        logits: ``[N, *S]`` logits :math:`z` with :math:`\pi = \sigma(z)`.
        max_power: ``[N]`` per-link maximum power :math:`p_0` (or a float).
    """

    def __init__(self, logits: Tensor, max_power: Tensor | float):
        self.logits = logits
        if isinstance(max_power, Tensor):
            max_power = max_power.reshape(
                *max_power.shape, *([1] * (logits.dim() - max_power.dim()))
            )
        self.max_power = max_power

    @property
    def prob(self) -> Tensor:
        """Transmit probability :math:`\\pi`."""
        return torch.sigmoid(self.logits)

    def sample(
        self, generator: torch.Generator | None = None, uniform: Tensor | None = None
    ) -> Tensor:
        """Draw actions ``a in {0, 1}`` (float, same shape as ``logits``); no gradient.

        ``uniform`` (same shape as ``logits``, values in ``[0, 1)``) supplies the
        uniform draws instead of ``generator``, for keyed random streams.
        """
        with torch.no_grad():
            uniform = uniform_draws(self.logits, generator, uniform)
            return (uniform < self.prob).to(self.logits.dtype)

    def mode(self) -> Tensor:
        """The most likely action, ``1`` where :math:`\\pi > 1/2` (:math:`z > 0`), else
        ``0`` (float, same shape as ``logits``); no gradient.
        """
        return (self.logits.detach() > 0).to(self.logits.dtype)

    def power(self, action: Tensor) -> Tensor:
        """Transmit power of actions: :math:`p = p_0 a`."""
        return self.max_power * action

    def expected_power(self) -> Tensor:
        """Continuous power :math:`p_0 \\pi` (differentiable; model-based training)."""
        return sigmoid_power(self.logits, self.max_power)

    def log_prob(self, action: Tensor) -> Tensor:
        """:math:`\\log P(a)`, differentiable in the logits."""
        return -F.binary_cross_entropy_with_logits(self.logits, action, reduction="none")

    def entropy(self) -> Tensor:
        """Entropy (nats) of every Bernoulli decision."""
        prob = self.prob
        return F.binary_cross_entropy_with_logits(self.logits, prob, reduction="none")
