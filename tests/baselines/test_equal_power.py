import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import EqualPower, equal_power
from pyg_aggnn.wireless import AdHoc, physics


def test_equal_share_per_network_capped_by_max_power():
    max_power = torch.tensor([2.0, 2.0, 2.0, 0.5, 0.5, 3.0])
    batch = torch.tensor([0, 0, 0, 1, 1, 2])
    power = equal_power(max_power, torch.tensor([3.0, 4.0, 1.0]), batch)
    assert torch.equal(power, torch.tensor([1.0, 1.0, 1.0, 0.5, 0.5, 1.0]))
    assert torch.equal(equal_power(torch.full((4,), 2.0), 2.0), torch.full((4,), 0.5))


def test_policy_meets_the_budget_exactly_at_every_slot():
    episodes = [AdHoc(num_links=m).episode(4, seed=m, dtype=torch.float64) for m in (5, 8)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    power = EqualPower()(batch)
    assert power.shape == (13, 4)
    slack = physics.power_budget_slack(power, batch.p_max_total, batch.batch)
    torch.testing.assert_close(slack, torch.zeros(2, 4, dtype=torch.float64))
    assert repr(EqualPower()) == "EqualPower(update_every=1, when_active=False)"


def test_bad_inputs():
    with pytest.raises(ValueError, match="p_max_total"):
        equal_power(torch.ones(3), -1.0)
    with pytest.raises(ValueError, match="max_power"):
        equal_power(torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="max_power"):
        equal_power(2.0, 1.0)
    with pytest.raises(ValueError, match="p_max_total"):
        equal_power(torch.ones(3), torch.ones(2), torch.tensor([0, 0, 0]))
