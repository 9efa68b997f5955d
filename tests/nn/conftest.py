"""Helpers shared by the model tests: relabelled and truncated episodes."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.wireless import AdHoc


def permute_episode(episode: WirelessEpisode, perm: torch.Tensor) -> WirelessEpisode:
    """Relabel the links: new link ``a`` is old link ``perm[a]``; edges re-sorted."""
    m = episode.x.size(0)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(m)
    src, dst = inverse[episode.edge_index]
    order = torch.argsort(dst * m + src)
    return WirelessEpisode.build(
        x=episode.x[perm],
        edge_index=torch.stack([src, dst])[:, order],
        edge_gain=episode.edge_gain[order],
        direct_gain=episode.direct_gain[perm],
        active=episode.active[perm],
        receiver=episode.receiver[perm],
        tx_pos=episode.tx_pos[perm],
        rx_pos=episode.rx_pos,
        eta0=float(episode.eta0),
        noise_power=float(episode.noise_power[0]),
        max_power=float(episode.max_power[0]),
        p_max_total=float(episode.p_max_total),
        link_weight=episode.link_weight[perm],
    )


def truncate_episode(episode: WirelessEpisode, num_slots: int) -> WirelessEpisode:
    """The first ``num_slots`` slots of ``episode``."""
    out = episode.clone()
    for key in ("x", "edge_gain", "edge_weight", "direct_gain", "active"):
        out[key] = episode[key][:, :num_slots]
    return out


@pytest.fixture
def permute():
    return permute_episode


@pytest.fixture
def truncate():
    return truncate_episode


@pytest.fixture(scope="session")
def fixed_density_pair():
    """100 networks of 10 links (one batch) and one of 10,000 at the same density."""
    small = [AdHoc(10, reference_links=10).episode(10, seed=s) for s in range(100)]
    small = next(iter(DataLoader(small, batch_size=100)))
    large = AdHoc(10_000, reference_links=10).episode(10, seed=0)
    return small, large
