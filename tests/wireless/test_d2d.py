import math

import pytest
import torch

from pyg_aggnn.wireless import D2D
from pyg_aggnn.wireless.d2d import dual_slope_pathloss_db


def test_dual_slope_formula_values():
    # 2.4 GHz, 1.5 m antennas: breakpoint 72 m, L_bp = 71.2 dB
    wavelength = 2.998e8 / 2.4e9
    rbp = 4 * 1.5 * 1.5 / wavelength
    lbp = abs(20 * math.log10(wavelength**2 / (8 * math.pi * 1.5 * 1.5)))
    d = torch.tensor([2.0, rbp, 500.0], dtype=torch.float64)
    got = dual_slope_pathloss_db(d, 2.4e9, 1.5, 1.5)
    want = [lbp + 6 + 20 * math.log10(2 / rbp), lbp + 6, lbp + 6 + 40 * math.log10(500 / rbp)]
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))
    assert rbp == pytest.approx(72.0, rel=1e-3) and lbp == pytest.approx(71.2, abs=0.1)


def test_link_lengths_and_normalised_gains():
    scenario = D2D(num_links=30, shadowing_db=0.0, delta=0.0)
    ep = scenario.episode(2, seed=0, dtype=torch.float64)
    length = torch.linalg.vector_norm(ep.rx_pos - ep.tx_pos, dim=1)
    assert bool((length >= 2 - 1e-9).all() and (length <= 65 + 1e-9).all())
    # without shadowing, |h_ii|^2 / |f|^2 = 10^((-L(d) + G_a + P/N)/10); E|f|^2 = 1
    loss = dual_slope_pathloss_db(length, 2.4e9, 1.5, 1.5)
    expected_db = -loss + 2.5 + scenario.snr_headroom_db
    snr_db = 10 * torch.log10(ep.direct_gain[:, 0].square())
    # the fading adds a Rayleigh factor; its log has mean -2.5 dB and spread ~5.6 dB
    assert (snr_db - expected_db).mean().item() == pytest.approx(-2.5, abs=2.5)
    assert scenario.snr_headroom_db == pytest.approx(40 - (-169 + 10 * math.log10(5e6)))


def test_bad_distances():
    with pytest.raises(ValueError, match="max_link_distance_m"):
        D2D(min_link_distance_m=10, max_link_distance_m=5)
    with pytest.raises(ValueError, match="field_side_m"):
        D2D(field_side_m=0)
