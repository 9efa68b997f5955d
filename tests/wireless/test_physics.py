import numpy as np
import pytest
import torch

from pyg_aggnn.wireless import physics


def _numpy_rates(gain, power, noise):
    """Independent dense reference: gain[i, j] amplitude Tx j -> Rx i."""
    g2 = gain**2
    signal = np.diag(g2) * power
    interference = g2 @ power - signal
    return np.log1p(signal / (noise + interference))


def test_sparse_rates_equal_dense_numpy():
    rng = np.random.default_rng(0)
    for m in (1, 2, 7):
        gain = rng.rayleigh(size=(m, m))
        power = rng.uniform(0, 2, size=m)
        direct, edge_index, edge_gain = physics.dense_to_edges(torch.tensor(gain))
        got = physics.rate(torch.tensor(power), direct, edge_index, edge_gain, 0.3)
        np.testing.assert_allclose(got.numpy(), _numpy_rates(gain, power, 0.3), rtol=1e-12)


def test_trailing_sample_dims_and_per_node_noise():
    rng = np.random.default_rng(1)
    m, slots = 5, 3
    gain = rng.rayleigh(size=(m, m, slots))
    power = rng.uniform(0, 1, size=(m, slots))
    noise = rng.uniform(0.5, 1.5, size=m)
    direct, edge_index, edge_gain = physics.dense_to_edges(torch.tensor(gain))
    got = physics.rate(torch.tensor(power), direct, edge_index, edge_gain, torch.tensor(noise))
    for t in range(slots):
        want = _numpy_rates(gain[:, :, t], power[:, t], noise)
        np.testing.assert_allclose(got[:, t].numpy(), want, rtol=1e-12)


def test_missing_edges_mean_no_interference():
    edge_index = torch.tensor([[0, 1], [0, 1]])  # self loops only
    power = torch.tensor([1.0, 2.0])
    got = physics.sinr(power, torch.tensor([2.0, 1.0]), edge_index, torch.tensor([2.0, 1.0]), 1.0)
    torch.testing.assert_close(got, torch.tensor([4.0, 2.0]))


def test_utilities_per_graph():
    rates = torch.tensor([1.0, 2.0, 3.0, 4.0])
    batch = torch.tensor([0, 0, 1, 1])
    torch.testing.assert_close(physics.sum_rate(rates, batch), torch.tensor([3.0, 7.0]))
    w = torch.tensor([0.5, 1.0, 0.0, 2.0])
    torch.testing.assert_close(physics.sum_rate(rates, batch, weight=w), torch.tensor([2.5, 8.0]))
    pf = physics.proportional_fairness(rates, batch, eps=0.0)
    torch.testing.assert_close(pf, torch.tensor([np.log(2.0), np.log(12.0)], dtype=torch.float32))
    torch.testing.assert_close(physics.min_rate_slack(rates, 2.5), rates - 2.5)
    slack = physics.power_budget_slack(
        torch.tensor([1.0, 1.0, 2.0, 0.0]), torch.tensor([3.0, 1.0]), batch
    )
    torch.testing.assert_close(slack, torch.tensor([1.0, -1.0]))
    assert physics.sum_rate(rates).shape == (1,)


def test_rate_is_differentiable_in_power():
    gain = torch.rand(4, 4, dtype=torch.float64) + 0.1
    direct, edge_index, edge_gain = physics.dense_to_edges(gain)

    def total(p):
        return physics.rate(p, direct, edge_index, edge_gain, 1.0).sum()

    p = torch.rand(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(total, (p,))


@pytest.mark.parametrize("m", [3, 6])
def test_dense_to_edges_round_trip(m):
    gain = torch.rand(m, m)
    direct, edge_index, edge_gain = physics.dense_to_edges(gain)
    back = torch.zeros(m, m)
    back[edge_index[1], edge_index[0]] = edge_gain
    torch.testing.assert_close(back, gain)
    torch.testing.assert_close(direct, gain.diagonal())
