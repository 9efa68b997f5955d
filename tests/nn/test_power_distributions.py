import pytest
import torch
from scipy import stats

from pyg_aggnn.nn import BernoulliPower, TruncatedGaussianPower

LOGITS = torch.tensor([[-2.0, 0.0, 0.4], [1.5, -0.3, 3.0]], dtype=torch.float64)
MAX_POWER = torch.tensor([2.0, 0.5], dtype=torch.float64)


def _scipy(logits, scale):
    loc = torch.sigmoid(logits).numpy()
    return stats.truncnorm((0.0 - loc) / scale, (1.0 - loc) / scale, loc=loc, scale=scale)


@pytest.mark.parametrize("scale", [0.05, 0.3, 2.0])
def test_density_mean_and_entropy_match_scipy(scale):
    dist = TruncatedGaussianPower(LOGITS, MAX_POWER, scale)
    reference = _scipy(LOGITS, scale)
    action = torch.tensor([[0.0, 0.5, 0.9], [0.99, 0.2, 1.0]], dtype=torch.float64)
    want = torch.from_numpy(reference.logpdf(action.numpy()))
    torch.testing.assert_close(dist.log_prob(action), want)
    torch.testing.assert_close(dist.entropy(), torch.from_numpy(reference.entropy()))
    mean = torch.from_numpy(reference.mean())
    torch.testing.assert_close(dist.expected_power(), MAX_POWER[:, None] * mean)
    torch.testing.assert_close(dist.power(action), MAX_POWER[:, None] * action)


def test_entropy_of_a_wide_law_approaches_the_uniform():
    dist = TruncatedGaussianPower(torch.zeros(3, dtype=torch.float64), 1.0, 1e3)
    assert bool((dist.entropy().abs() < 1e-6).all())
    assert bool((TruncatedGaussianPower(LOGITS, MAX_POWER, 0.3).entropy() < 0).all())


def test_keyed_samples_are_reproducible_and_inside_the_interval():
    dist = TruncatedGaussianPower(LOGITS, MAX_POWER, 0.3)
    uniform = torch.rand(LOGITS.shape, generator=torch.Generator().manual_seed(0))
    first = dist.sample(uniform=uniform.double())
    assert torch.equal(first, dist.sample(uniform=uniform.double()))
    assert torch.equal(first, dist.sample(uniform=uniform.float()))  # cast to the logits'
    assert not first.requires_grad
    extremes = torch.tensor([[0.0] * 3, [1.0 - 1e-16] * 3], dtype=torch.float64)
    edges = dist.sample(uniform=extremes)
    assert bool(((edges >= 0) & (edges <= 1)).all())
    a = dist.sample(generator=torch.Generator().manual_seed(1))
    b = dist.sample(generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and bool(((a >= 0) & (a <= 1)).all())
    with pytest.raises(ValueError, match="uniform must have shape"):
        dist.sample(uniform=torch.rand(3))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inverse_cdf_of_a_uniform_grid_follows_the_truncated_normal_cdf(dtype):
    logits = torch.tensor([-1.0, 0.0, 2.5], dtype=dtype)
    count = 4000
    grid = ((torch.arange(count, dtype=dtype) + 0.5) / count)[:, None].expand(-1, 3)
    draws = TruncatedGaussianPower(logits.expand(count, -1), 1.0, 0.4).sample(uniform=grid)
    reference = _scipy(logits.double(), 0.4)
    points = torch.linspace(0.0, 1.0, 21, dtype=torch.float64)
    empirical = (draws.double()[None] <= points[:, None, None]).double().mean(1)  # [21, 3]
    want = torch.from_numpy(reference.cdf(points[:, None].numpy()))
    # a grid of uniforms leaves only the grid's resolution (and float32 rounding)
    torch.testing.assert_close(empirical, want, atol=2.0 / count, rtol=0)
    assert bool((draws.diff(dim=0) >= 0).all())  # the inverse CDF is monotone


def test_log_prob_gradients_in_logits_and_scale_pass_gradcheck():
    action = torch.tensor([[0.1, 0.5, 0.9], [0.7, 0.0, 1.0]], dtype=torch.float64)

    def log_prob(logits, log_scale):
        dist = TruncatedGaussianPower(logits, MAX_POWER, log_scale.exp())
        return dist.log_prob(action), dist.entropy(), dist.expected_power()

    logits = LOGITS.clone().requires_grad_()
    log_scale = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(log_prob, (logits, log_scale))


def test_bad_scale_names_the_argument():
    with pytest.raises(ValueError, match="scale must be > 0"):
        TruncatedGaussianPower(LOGITS, MAX_POWER, 0.0)


@pytest.mark.parametrize("scale", [0.05, 0.3, 2.0])
def test_mode_is_where_the_density_peaks(scale):
    dist = TruncatedGaussianPower(LOGITS, MAX_POWER, scale)
    grid = torch.linspace(0.0, 1.0, 20001, dtype=torch.float64)  # steps of 5e-5
    density = dist.log_prob(grid[:, None, None].expand(-1, *LOGITS.shape))
    peak = grid[density.argmax(0)]
    torch.testing.assert_close(dist.mode(), peak, atol=5e-5, rtol=0)
    assert not dist.mode().requires_grad


def test_bernoulli_mode_is_the_likelier_action():
    logits = torch.tensor([[-2.0, 0.0, 0.4], [1e-3, -1e-3, 30.0]], requires_grad=True)
    dist = BernoulliPower(logits, 1.0)
    mode = dist.mode()
    likelier = dist.log_prob(torch.ones_like(logits)) > dist.log_prob(torch.zeros_like(logits))
    assert torch.equal(mode, likelier.float()) and not mode.requires_grad
    assert torch.equal(mode, torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]))
