import math

import pytest
import torch

from pyg_aggnn.wireless import GaussianIC


def test_iid_unit_power_channels_and_noise():
    scenario = GaussianIC(num_links=20, snr_db=10.0)
    assert scenario.noise_power == pytest.approx(0.1)
    assert scenario.p0 == 1.0 and scenario.p_max_total == 20.0
    ep = scenario.episode(50, seed=0, dtype=torch.float64)
    assert ep.edge_index.size(1) == 400
    power = ep.edge_gain.square()
    assert power.mean().item() == pytest.approx(1.0, abs=5 / math.sqrt(power.numel()))
    # i.i.d. over slots by default
    corr = torch.corrcoef(torch.stack([power[:, :-1].reshape(-1), power[:, 1:].reshape(-1)]))[0, 1]
    assert abs(corr.item()) < 0.05
    assert bool((ep.edge_weight == ep.edge_gain).all())  # complete graph


def test_bad_snr():
    with pytest.raises(ValueError, match="snr_db"):
        GaussianIC(snr_db=float("nan"))
    with pytest.raises(ValueError, match="num_links"):
        GaussianIC(num_links=0)
