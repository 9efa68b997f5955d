import math

import pytest
import torch

from pyg_aggnn.wireless import ar1_rayleigh


@pytest.mark.parametrize("delta", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("fading_var", [0.5, 1.0])
def test_stationary_power_and_lag1_correlation(delta, fading_var):
    gen = torch.Generator().manual_seed(0)
    f = ar1_rayleigh(20000, 6, delta, fading_var, gen, torch.float64, return_complex=True)
    power = f.square().sum(-1)  # [E, T] = |f|^2
    # E|f|^2 = 2 sigma^2 at every slot; std of the sample mean is 2 sigma^2 / sqrt(E)
    tol = 5 * 2 * fading_var / math.sqrt(f.size(0))
    for t in range(f.size(1)):
        assert abs(power[:, t].mean().item() - 2 * fading_var) < tol
    # lag-1 correlation of the complex process: E[f(t+1) f(t)^*] / E|f|^2 = sqrt(1 - delta)
    real_part = (f[:, 1:, 0] * f[:, :-1, 0] + f[:, 1:, 1] * f[:, :-1, 1]).mean()
    imag_part = (f[:, 1:, 1] * f[:, :-1, 0] - f[:, 1:, 0] * f[:, :-1, 1]).mean()
    corr = real_part / (2 * fading_var)
    assert abs(corr.item() - math.sqrt(1 - delta)) < 0.02
    assert abs(imag_part.item()) < 0.02


def test_amplitude_is_norm_of_complex_and_power_correlation():
    delta = 0.3
    amp = ar1_rayleigh(30000, 4, delta, 1.0, torch.Generator().manual_seed(1), torch.float64)
    cplx = ar1_rayleigh(
        30000, 4, delta, 1.0, torch.Generator().manual_seed(1), torch.float64, return_complex=True
    )
    torch.testing.assert_close(amp, torch.linalg.vector_norm(cplx, dim=-1))
    assert bool((amp >= 0).all())
    # |f|^2 of a circular Gaussian AR(1) has lag-1 correlation |rho|^2 = 1 - delta
    p = amp.square()
    corr = torch.corrcoef(torch.stack([p[:, 0], p[:, 1]]))[0, 1]
    assert abs(corr.item() - (1 - delta)) < 0.03


def test_frozen_and_iid_limits():
    frozen = ar1_rayleigh(100, 5, 0.0, generator=torch.Generator().manual_seed(2))
    assert torch.equal(frozen, frozen[:, :1].expand_as(frozen))
    iid = ar1_rayleigh(
        20000, 2, 1.0, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    corr = torch.corrcoef(iid.T)[0, 1]
    assert abs(corr.item()) < 0.03


def test_same_seed_same_numbers():
    a = ar1_rayleigh(50, 7, 0.3, generator=torch.Generator().manual_seed(5))
    b = ar1_rayleigh(50, 7, 0.3, generator=torch.Generator().manual_seed(5))
    c = ar1_rayleigh(50, 7, 0.3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"delta": -0.1}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": float("nan")}, "delta"),
        ({"fading_var": 0.0}, "fading_var"),
        ({"num_slots": 0}, "num_slots"),
    ],
)
def test_bad_arguments(kwargs, name):
    args = {"num_pairs": 3, "num_slots": 2, "delta": 0.3} | kwargs
    with pytest.raises(ValueError, match=name):
        ar1_rayleigh(**args)
