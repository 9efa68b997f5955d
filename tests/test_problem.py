import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.problem import PowerProblem


def _episode(seed=0, m=4, num_slots=3):
    generator = torch.Generator().manual_seed(seed)
    gain = torch.rand(m, m, num_slots, generator=generator, dtype=torch.float64) + 0.1
    return WirelessEpisode.from_dense(gain, eta0=0.5, max_power=2.0, p_max_total=3.0)


def _dense_rates(gain, power, noise=1.0):
    # gain [m, m, T] amplitudes (row = victim), power [m, T]
    m, _, num_slots = gain.shape
    out = np.zeros((m, num_slots))
    for t in range(num_slots):
        for i in range(m):
            interference = sum(gain[i, j, t] ** 2 * power[j, t] for j in range(m) if j != i)
            out[i, t] = math.log1p(gain[i, i, t] ** 2 * power[i, t] / (noise + interference))
    return out


def test_reward_is_the_shannon_rate_against_dense_reference():
    generator = torch.Generator().manual_seed(3)
    gain = torch.rand(4, 4, 3, generator=generator, dtype=torch.float64) + 0.1
    episode = WirelessEpisode.from_dense(gain, max_power=2.0)
    power = 2.0 * (torch.rand(4, 3, generator=generator, dtype=torch.float64) < 0.5)
    got = PowerProblem().reward(episode, power[..., None].expand(-1, -1, 2))
    want = _dense_rates(gain.numpy(), power.numpy())
    assert got.shape == (4, 3, 2)
    np.testing.assert_allclose(got[..., 0].numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(got[..., 1].numpy(), want, rtol=1e-12)


def test_neighbours_only_drops_weak_interferers():
    episode = _episode()
    power = torch.full((4, 3), 2.0, dtype=torch.float64)
    full = PowerProblem().reward(episode, power)
    local = PowerProblem(neighbours_only=True).reward(episode, power)
    assert bool((local >= full - 1e-12).all()) and bool((local > full).any())


def test_utility_and_constraints():
    slack = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    weight = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
    assert float(PowerProblem().utility(slack, weight)) == pytest.approx(4.5)
    assert float(PowerProblem().utility(slack)) == pytest.approx(3.5)
    pf = PowerProblem(utility="proportional_fairness")
    assert float(pf.utility(slack)) == pytest.approx(math.log(0.5) + math.log(2.0), abs=1e-8)
    assert PowerProblem().rate_constraints(slack).numel() == 0
    assert PowerProblem().num_rate_constraints == 0
    constrained = PowerProblem(min_rate=0.75)
    assert constrained.num_rate_constraints == 1
    torch.testing.assert_close(
        constrained.rate_constraints(slack), torch.tensor([-0.25, 0.25, 1.25], dtype=torch.float64)
    )


def test_power_slack_per_network_of_a_batch():
    batch = Batch.from_data_list([_episode(0), _episode(1, m=3)])
    power = torch.ones(7, 3, 2, dtype=torch.float64)
    power[4:] = 0.5
    slack = PowerProblem().power_slack(batch, power)
    assert slack.shape == (2, 3, 2)
    assert bool((slack[0] == 3.0 - 4.0).all()) and bool((slack[1] == 3.0 - 1.5).all())


def test_a_new_reward_plugs_in_by_overriding():
    class Demands(PowerProblem):
        def reward(self, batch, power):
            rates = super().reward(batch, power)
            return rates - batch.x[..., 0].reshape(*batch.x.shape[:2], *[1] * (rates.dim() - 2))

    episode = _episode()
    power = torch.ones(4, 3, 2, dtype=torch.float64)
    torch.testing.assert_close(
        Demands().reward(episode, power), PowerProblem().reward(episode, power) - 1.0
    )


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="utility must be one of"):
        PowerProblem(utility="max_min")
    with pytest.raises(ValueError, match="min_rate must be >= 0"):
        PowerProblem(min_rate=-1.0)
    assert "sum_rate" in repr(PowerProblem())
