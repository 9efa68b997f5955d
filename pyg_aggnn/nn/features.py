r"""Node input features that every link can compute from what it knows itself.

A model lists the features it diffuses or processes by name; each one is a function of
link :math:`i`'s own quantities only, so the same numbers are available to a node of the
decentralized protocol. Scale-dependent quantities are compressed relative to the
reference amplitude :math:`\eta` (the threshold :math:`\eta_0`, see
:func:`pyg_aggnn.nn.shift.gain_reference`), which makes them independent of the network
size at fixed density: one set of weights serves networks of 10 and of 10,000 links.

* ``state`` (``state_channels`` channels): the node state :math:`x_i(t)` (``episode.x``);
* ``direct_gain`` (1): :math:`\log(1 + |h_{ii}(t)| / \eta)`;
* ``active`` (1): :math:`\mathbb{1}[i \in \mathcal{A}(t)]`;
* ``link_weight`` (1): the priority weight :math:`\alpha_i`;
* ``leakage`` (1): the interference its full power causes, in units of the victims'
  noise, :math:`\log(1 + p_{0,i} \sum_{j \ne i} |h_{ji}(t)|^2 / \sigma_j^2)` over the
  receivers :math:`j` that hear it above the threshold :math:`\eta_0`
  (:func:`leakage`): what a distributed WMMSE's transmitter update weighs its power
  by, known to transmitter :math:`i` from the receivers it reaches (by channel
  reciprocity, or their feedback).

Feedback features (:data:`FEEDBACK_FEATURES`) depend on the powers on the air, so a
policy that reads them decides slot by slot (:func:`pyg_aggnn.on_air.allocate` rolls
it out; only the :class:`~pyg_aggnn.nn.AggGNN` takes them). Both are of the *previous*
slot, what the link knows when it decides at slot :math:`t`:

* ``power`` (1): its own power in force, :math:`p_i(t-1) / p_{0,i}` (``0`` at slot 0);
* ``interference`` (1): what its receiver measured,
  :math:`\log(1 + I_i(t-1) / \sigma_i^2)` with
  :math:`I_i(t) = \sum_{j \ne i} |h_{ij}(t)|^2 p_j(t)` over every pair
  (:func:`~pyg_aggnn.wireless.physics.interference_power`; ``0`` at slot 0).

Diffused, ``power`` tells a node the powers its neighbours held ``k`` slots ago, as
the exchanged iterates of a distributed WMMSE tell it theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.nn import shift
from pyg_aggnn.wireless import physics

__all__ = [
    "NODE_FEATURES",
    "FEEDBACK_FEATURES",
    "sample_features",
    "leakage",
    "check_features",
    "num_node_features",
    "local_features",
    "node_features",
]

NODE_FEATURES = ("state", "direct_gain", "active", "link_weight", "leakage")
#: Inputs that depend on the powers on the air at the previous slot (see above).
FEEDBACK_FEATURES = ("power", "interference")


def check_features(
    features: Sequence[str], allowed: Sequence[str] = NODE_FEATURES, name: str = "features"
) -> tuple[str, ...]:
    """Validate a non-empty list of unique feature names; return it as a tuple."""
    if isinstance(features, str) or len(features) == 0:
        raise ValueError(
            f"{name} must be a non-empty list of names from {list(allowed)}, got {features!r}"
        )
    for feature in features:
        check_choice(name, feature, allowed)
    if len(set(features)) != len(features):
        raise ValueError(f"{name} must not repeat a name, got {list(features)!r}")
    return tuple(features)


def num_node_features(features: Sequence[str], state_channels: int = 1) -> int:
    """Number of input channels the listed features produce."""
    check_positive_int("state_channels", state_channels)
    return sum(state_channels if name == "state" else 1 for name in features)


def local_features(
    features: Sequence[str],
    state: Tensor,
    direct_gain: Tensor,
    active: Tensor,
    link_weight: Tensor,
    reference: Tensor | float,
    outgoing: Tensor | None = None,
) -> Tensor:
    """Features of one or many links, elementwise in the link: ``[n, T, F_in]``.

    Args:
        features: names from :data:`NODE_FEATURES`.
        state: ``[n, T, F]`` node states.
        direct_gain: ``[n, T]`` direct amplitudes :math:`|h_{ii}(t)|`.
        active: ``[n, T] bool`` activity.
        link_weight: ``[n]`` priority weights.
        reference: float or ``[n]`` reference amplitude :math:`\\eta > 0`.
        outgoing: ``[n, T]`` the links' :func:`leakage` (needed for ``"leakage"``).
    """
    columns = []
    for name in features:
        if name == "state":
            columns.append(state)
        elif name == "direct_gain":
            ref = reference[:, None] if isinstance(reference, Tensor) else reference
            columns.append(torch.log1p(direct_gain / ref).unsqueeze(-1))
        elif name == "active":
            columns.append(active.to(state.dtype).unsqueeze(-1))
        elif name == "leakage":
            if outgoing is None:
                raise ValueError(
                    "the feature 'leakage' needs the links' outgoing gains: pass outgoing= "
                    "(node_features computes it from the episode)"
                )
            columns.append(outgoing.to(state.dtype).unsqueeze(-1))
        else:
            columns.append(link_weight.to(state.dtype)[:, None, None].expand(-1, state.size(1), 1))
    return torch.cat(columns, dim=-1)


def node_features(batch, features: Sequence[str], gain_scale: float | None = None) -> Tensor:
    """Features ``[N, T, F_in]`` of every link of a (batched) episode; feedback features
    read the powers in force ``batch.feedback_power`` (``[N, T]``, zero if absent).
    """
    if all(name in NODE_FEATURES for name in features):
        reference = shift.node_reference(batch, gain_scale)
        outgoing = leakage(batch) if "leakage" in features else None
        return local_features(
            features,
            batch.x,
            batch.direct_gain,
            batch.active,
            batch.link_weight,
            reference,
            outgoing,
        )
    power = getattr(batch, "feedback_power", None)
    if power is None:
        power = batch.direct_gain.new_zeros(batch.direct_gain.shape)
    return sample_features(batch, features, power[..., None], gain_scale)[:, :, 0]


def sample_features(
    batch,
    features: Sequence[str],
    power: Tensor,
    gain_scale: float | None = None,
    num_slots: int | None = None,
) -> Tensor:
    """Features ``[N, T, S, F_in]`` of every link under ``S`` samples of the powers on
    the air, ``power`` ``[N, T, S]`` (column ``t`` is read only by slot ``t + 1``); with
    ``num_slots``, of the first ``num_slots`` slots only.
    """
    reference = shift.node_reference(batch, gain_scale)
    samples = power.size(-1)
    slots = slice(0, batch.direct_gain.size(1) if num_slots is None else num_slots)
    power = power[:, slots]
    columns = []
    for name in features:
        if name == "power":
            value = (power / batch.max_power.to(power.dtype)[:, None, None])[..., None]
        elif name == "interference":
            gain = batch.edge_gain[:, slots].to(power.dtype)[..., None]  # [E, T, 1]
            received = physics._interference_power(power, batch.edge_index, gain, power.size(0))
            value = torch.log1p(received / batch.noise_power.to(power.dtype)[:, None, None])
            value = value[..., None]
        else:
            own = local_features(
                [name],
                batch.x[:, slots],
                batch.direct_gain[:, slots],
                batch.active[:, slots],
                batch.link_weight,
                reference,
                leakage(batch)[:, slots] if name == "leakage" else None,
            )
            columns.append(own[:, :, None].expand(-1, -1, samples, -1))
            continue
        # what the link knows at slot t is that of slot t - 1
        columns.append(torch.cat([torch.zeros_like(value[:, :1]), value[:, :-1]], dim=1))
    return torch.cat(columns, dim=-1)


def leakage(batch) -> Tensor:
    """``[N, T]``: :math:`\\log(1 + p_{0,i} \\sum_{j \\ne i} |h_{ji}(t)|^2 / \\sigma_j^2)`,
    the interference-to-noise ratio that link ``i``'s full power causes at the receivers
    that hear it above the threshold :math:`\\eta_0` (the pairs that the thresholded
    graph, and a distributed WMMSE, keep).
    """
    src, dst = batch.edge_index
    gain = batch.interference_gain(neighbours_only=True).to(batch.direct_gain.dtype)
    cross = (src != dst).to(gain.dtype) / batch.noise_power.to(gain.dtype)[dst]  # [E]
    caused = scatter(gain.square() * cross[:, None], src, 0, dim_size=batch.direct_gain.size(0))
    return torch.log1p(caused * batch.max_power.to(gain.dtype)[:, None])
