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
* ``link_weight`` (1): the priority weight :math:`\alpha_i`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.nn import shift

__all__ = [
    "NODE_FEATURES",
    "check_features",
    "num_node_features",
    "local_features",
    "node_features",
]

NODE_FEATURES = ("state", "direct_gain", "active", "link_weight")


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
) -> Tensor:
    """Features of one or many links, elementwise in the link: ``[n, T, F_in]``.

    Args:
        features: names from :data:`NODE_FEATURES`.
        state: ``[n, T, F]`` node states.
        direct_gain: ``[n, T]`` direct amplitudes :math:`|h_{ii}(t)|`.
        active: ``[n, T] bool`` activity.
        link_weight: ``[n]`` priority weights.
        reference: float or ``[n]`` reference amplitude :math:`\\eta > 0`.
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
        else:
            columns.append(link_weight.to(state.dtype)[:, None, None].expand(-1, state.size(1), 1))
    return torch.cat(columns, dim=-1)


def node_features(batch, features: Sequence[str], gain_scale: float | None = None) -> Tensor:
    """Features ``[N, T, F_in]`` of every link of a (batched) episode."""
    reference = shift.node_reference(batch, gain_scale)
    return local_features(
        features, batch.x, batch.direct_gain, batch.active, batch.link_weight, reference
    )
