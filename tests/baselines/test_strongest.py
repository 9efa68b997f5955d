import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import Strongest, strongest
from pyg_aggnn.wireless import AdHoc


def brute_force(gain, max_power, fraction, sizes):
    out, start = np.zeros_like(gain), 0
    for k, m in enumerate(sizes):
        frac = fraction[k] if np.ndim(fraction) else fraction
        count = int(np.floor(frac * m + 1e-9))
        for col in range(gain.shape[1]):
            block = gain[start : start + m, col]
            order = sorted(range(m), key=lambda i: (-block[i], i))
            for i in order[:count]:
                out[start + i, col] = max_power[start + i]
        start += m
    return out


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.5, 1.0])
def test_matches_brute_force(fraction):
    rng = np.random.default_rng(0)
    sizes = [4, 7, 1, 10]
    gain = rng.uniform(size=(sum(sizes), 3))
    gain[2, 0] = gain[1, 0]  # a tie
    max_power = rng.uniform(1, 2, sum(sizes))
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor(sizes))
    out = strongest(torch.tensor(gain), torch.tensor(max_power), fraction, batch)
    np.testing.assert_array_equal(out.numpy(), brute_force(gain, max_power, fraction, sizes))


def test_nodes_need_not_be_sorted_by_network_and_fraction_per_network():
    rng = np.random.default_rng(1)
    gain = torch.tensor(rng.uniform(size=(8,)))
    batch = torch.tensor([1, 0, 1, 0, 1, 0, 1, 1])
    out = strongest(gain, torch.ones(8, dtype=torch.float64), torch.tensor([0.34, 0.6]), batch)
    for k, count in ((0, 1), (1, 3)):
        members = (batch == k).nonzero().squeeze(1)
        top = members[torch.argsort(gain[members], descending=True)[:count]]
        assert set(out.nonzero().squeeze(1).tolist()) & set(members.tolist()) == set(top.tolist())


def test_default_fraction_meets_the_budget():
    episodes = [AdHoc(num_links=m).episode(5, seed=m, dtype=torch.float64) for m in (7, 10)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    power = Strongest()(batch)  # p0 = 2, P_max = m: half of the links, rounded down
    on = (power > 0).reshape(-1, 5)
    assert on[:7].sum(0).tolist() == [3] * 5 and on[7:].sum(0).tolist() == [5] * 5
    assert repr(Strongest(0.25)) == "Strongest(fraction=0.25, update_every=1, when_active=False)"


def test_bad_inputs():
    with pytest.raises(ValueError, match="fraction"):
        Strongest(fraction=1.5)
    with pytest.raises(ValueError, match="fraction"):
        strongest(torch.ones(3), torch.ones(3), -0.1)
    with pytest.raises(ValueError, match="direct_gain"):
        strongest(-torch.ones(3), torch.ones(3), 0.5)
