import math

import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import RandomFullPower, random_full_power
from pyg_aggnn.wireless import AdHoc, physics


def test_values_and_reproducibility():
    max_power = torch.tensor([2.0, 2.0, 2.0, 2.0])
    a = random_full_power(
        max_power, 4.0, num_samples=50, generator=torch.Generator().manual_seed(1)
    )
    b = random_full_power(
        max_power, 4.0, num_samples=50, generator=torch.Generator().manual_seed(1)
    )
    assert a.shape == (4, 50) and torch.equal(a, b)
    assert set(a.unique().tolist()) == {0.0, 2.0}
    # P_max / m >= p0: probability clipped to one, every link on
    assert torch.equal(random_full_power(max_power, 10.0), max_power)
    assert random_full_power(max_power, 0.0).sum() == 0


def test_budget_met_in_expectation():
    """Sum power per sample has mean P_max and variance sum_i p0^2 q (1 - q): the sample
    mean of n draws must lie within 5 standard errors (false alarm ~ 6e-7)."""
    sizes, p0 = (10, 25), 2.0
    p_max = torch.tensor([6.0, 25.0])
    batch = torch.repeat_interleave(torch.arange(2), torch.tensor(sizes))
    n = 20000
    power = random_full_power(
        torch.full((35,), p0),
        p_max,
        batch,
        num_samples=n,
        generator=torch.Generator().manual_seed(0),
    )
    total = physics.sum_rate(power, batch)  # sum over links of each network: [2, n]
    for k, m in enumerate(sizes):
        q = float(p_max[k]) / (m * p0)
        std = math.sqrt(m * p0**2 * q * (1 - q))
        assert abs(float(total[k].mean()) - float(p_max[k])) <= 5 * std / math.sqrt(n)


def test_policy_on_an_episode():
    episodes = [AdHoc(num_links=m).episode(400, seed=m, dtype=torch.float64) for m in (6, 10)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    power = RandomFullPower()(batch, torch.Generator().manual_seed(3))
    assert power.shape == (16, 400)
    mean_total = physics.sum_rate(power, batch.batch).mean(dim=1)  # [2]
    q = batch.p_max_total / (torch.tensor([6.0, 10.0]) * 2.0)
    std = torch.sqrt(torch.tensor([6.0, 10.0]) * 4.0 * q * (1 - q))
    assert bool(((mean_total - batch.p_max_total).abs() <= 5 * std / math.sqrt(400)).all())


def test_bad_inputs():
    with pytest.raises(ValueError, match="num_samples"):
        random_full_power(torch.ones(3), 1.0, num_samples=0)
    with pytest.raises(ValueError, match="p_max_total"):
        random_full_power(torch.ones(3), float("nan"))
    with pytest.raises(ValueError, match="max_power"):
        random_full_power(torch.tensor([1.0, -1.0]), 1.0)
