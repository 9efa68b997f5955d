import math

import pytest
import torch

from pyg_aggnn.baselines import MaxRatioTransmission, max_ratio_transmission
from pyg_aggnn.wireless import D2D, MISOD2D, miso


def test_full_power_along_the_own_channel():
    h = torch.tensor([[3 + 4j, 0j], [0j, 0j], [1j, 1 + 0j]], dtype=torch.complex128)
    v = max_ratio_transmission(h, torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(miso.beam_power(v), torch.tensor([4.0, 2.0, 1.0]).double())
    torch.testing.assert_close(v[0], torch.tensor([1.2 + 1.6j, 0j], dtype=torch.complex128))
    torch.testing.assert_close(v[1], torch.full((2,), 1.0 + 0j, dtype=torch.complex128))
    # the own received power |h^H v|^2 = p0 ||h||^2 is the largest any beam of power p0 gets
    gain = (h.conj() * v).sum(-1).abs().square()
    torch.testing.assert_close(gain[[0, 2]], torch.tensor([100.0, 2.0]).double())
    with pytest.raises(ValueError, match="max_power"):
        max_ratio_transmission(h, 0.0)


def test_policy_on_episodes():
    ep = MISOD2D(6, num_antennas=3).episode(4, seed=0, dtype=torch.float64)
    beams = MaxRatioTransmission()(ep)
    assert beams.shape == (6, 4, 3)
    own = (ep.direct_channel.conj() * beams).sum(-1).abs()
    torch.testing.assert_close(own, ep.direct_gain * math.sqrt(1.0))
    with pytest.raises(ValueError, match="complex channels"):
        MaxRatioTransmission()(D2D(4).episode(1, seed=0))
