import pytest
import torch
from torch import nn

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.nn.policy import PowerPolicy


class TinyPolicy(PowerPolicy):
    """A per-node MLP on local features (node state, log direct gain): the interface only."""

    def __init__(self, hidden: int = 4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def logits(self, batch, all_slots: bool = False):
        gain = torch.log(batch.direct_gain.clamp_min(1e-12))
        out = self.net(torch.stack([batch.x[..., 0], gain], dim=-1)).squeeze(-1)  # [N, T]
        return out if all_slots else out[:, -1]


@pytest.fixture
def tiny_policy():
    def make(seed: int = 0, dtype=torch.float32):
        torch.manual_seed(seed)
        return TinyPolicy().to(dtype)

    return make


@pytest.fixture
def dense_episode():
    def make(m=3, num_slots=3, seed=0, active=None, p_max_total=None, dtype=torch.float64):
        generator = torch.Generator().manual_seed(seed)
        gain = 0.5 + 1.5 * torch.rand(m, m, num_slots, generator=generator, dtype=dtype)
        return WirelessEpisode.from_dense(
            gain, active=active, max_power=2.0, p_max_total=p_max_total
        )

    return make
