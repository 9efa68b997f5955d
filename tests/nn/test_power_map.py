import pytest
import torch

from pyg_aggnn.nn.power_map import FLOOR_SLOPE, POWER_MAPS, continuous_power, saturated


def _grad(power_map, logits, upstream, max_power=2.0):
    z = logits.clone().requires_grad_(True)
    continuous_power(z, max_power, power_map).backward(upstream)
    return z.grad


def test_clip_values_are_the_clipped_line():
    z = torch.tensor([-5.0, -2.0, -1.0, 0.0, 1.0, 2.0, 5.0], dtype=torch.float64)
    expected = 2.0 * torch.tensor([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(continuous_power(z, 2.0, "clip"), expected)


@pytest.mark.parametrize("power_map", ["sigmoid", "floor"])
def test_sigmoid_and_floor_maps_are_p0_sigmoid(power_map):
    z = torch.linspace(-6, 6, 13, dtype=torch.float64)
    max_power = torch.tensor([3.0], dtype=torch.float64).expand(13)
    torch.testing.assert_close(continuous_power(z, max_power, power_map), 3.0 * torch.sigmoid(z))


def test_floor_gradient_is_the_sigmoid_slope_where_it_is_steep_enough():
    z = torch.tensor([-3.0, 0.0, 0.5, 4.0], dtype=torch.float64)
    upstream = torch.tensor([1.0, -2.0, 3.0, -1.0], dtype=torch.float64)
    slope = torch.sigmoid(z) * torch.sigmoid(-z)
    assert bool((slope > FLOOR_SLOPE).all())
    torch.testing.assert_close(_grad("floor", z, upstream), upstream * 2.0 * slope)


def test_floor_gradient_is_floored_only_back_towards_zero():
    z = torch.tensor([20.0, 20.0, -20.0, -20.0], dtype=torch.float64)
    upstream = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    slope = float(
        torch.sigmoid(torch.tensor(20.0, dtype=torch.float64))
        * torch.sigmoid(torch.tensor(-20.0, dtype=torch.float64))
    )
    # descent moves z by -grad: back towards 0 is grad > 0 above, grad < 0 below
    expected = torch.tensor(
        [2.0 * FLOOR_SLOPE, -2.0 * slope, 2.0 * slope, -2.0 * FLOOR_SLOPE], dtype=torch.float64
    )
    torch.testing.assert_close(_grad("floor", z, upstream), expected)


def test_max_power_broadcasts_over_trailing_dimensions():
    z = torch.zeros(3, 4, 2)
    power = continuous_power(z, torch.tensor([1.0, 2.0, 4.0]), "clip")
    torch.testing.assert_close(power, torch.tensor([0.5, 1.0, 2.0])[:, None, None].expand(3, 4, 2))


def test_clip_gradient_inside_is_the_slope():
    z = torch.tensor([-1.5, 0.0, 1.9], dtype=torch.float64)
    upstream = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(_grad("clip", z, upstream), upstream * 2.0 / 4)


def test_clip_gradient_passes_only_inward_at_the_bounds():
    # above the top (z > 2) and below the bottom (z < -2), for both signs of dL/dp
    z = torch.tensor([5.0, 5.0, -5.0, -5.0], dtype=torch.float64)
    upstream = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    # descent moves z by -grad: inward is grad > 0 above, grad < 0 below
    expected = torch.tensor([0.5, 0.0, 0.0, -0.5], dtype=torch.float64)
    torch.testing.assert_close(_grad("clip", z, upstream), expected)


def test_sigmoid_gradient_vanishes_where_clip_and_floor_keep_it():
    z = torch.full((1,), 20.0)  # float32: sigmoid(20) == 1 exactly
    assert float(_grad("sigmoid", z, torch.ones(1))) == 0.0
    assert float(_grad("clip", z, torch.ones(1))) == pytest.approx(0.5)
    assert float(_grad("floor", z, torch.ones(1))) == pytest.approx(2.0 * FLOOR_SLOPE)


def test_gradient_descent_leaves_the_bound_except_with_the_sigmoid():
    """Minimising (p - 0.3)^2 from a saturated logit: clip and floor get back to 0.3."""
    for power_map, ends_near in (("clip", True), ("floor", True), ("sigmoid", False)):
        z = torch.tensor([20.0], requires_grad=True)
        opt = torch.optim.SGD([z], lr=1.0)
        for _ in range(2000):
            opt.zero_grad()
            (continuous_power(z, 1.0, power_map) - 0.3).square().sum().backward()
            opt.step()
        final = float(continuous_power(z.detach(), 1.0, power_map))
        assert (abs(final - 0.3) < 1e-3) is ends_near


def test_saturated():
    z = torch.tensor([0.0, 5.0, -8.0, 8.4, -30.0])
    assert saturated(z, "sigmoid").tolist() == [False, False, False, True, True]
    assert not saturated(z, "clip").any() and not saturated(z, "floor").any()


@pytest.mark.parametrize("function", [continuous_power, saturated])
def test_unknown_map_is_refused(function):
    args = (torch.zeros(2), 1.0) if function is continuous_power else (torch.zeros(2),)
    with pytest.raises(ValueError, match="power_map"):
        function(*args, power_map="tanh")


def test_default_is_floor():
    assert POWER_MAPS[0] == "floor"
