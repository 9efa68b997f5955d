import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from lightning_modules.metrics import allocation_metrics, rates_and_reward, scored_slots
from lightning_modules.problem import PowerProblem
from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.evaluation.metrics import network_metrics


def _episode(m=4, num_slots=3, seed=0, p_max_total=None):
    generator = torch.Generator().manual_seed(seed)
    gain = 0.2 + 1.5 * torch.rand(m, m, num_slots, generator=generator, dtype=torch.float64)
    weight = torch.rand(m, generator=generator, dtype=torch.float64)
    return WirelessEpisode.from_dense(
        gain, max_power=2.0, p_max_total=p_max_total, link_weight=weight, noise_power=0.5
    )


def _numpy_rates(episode, power):
    """Independent reference: dense NumPy SINR, gain[i, j] = Tx j -> Rx i."""
    m, num_slots = power.shape
    rates = np.zeros((m, num_slots))
    for t in range(num_slots):
        gain = episode.dense_gain(t).numpy() ** 2
        p = power[:, t].numpy()
        for i in range(m):
            interference = sum(gain[i, j] * p[j] for j in range(m) if j != i)
            rates[i, t] = np.log(1 + gain[i, i] * p[i] / (0.5 + interference))
    return rates


def test_single_network_matches_a_dense_numpy_computation():
    episode = _episode(p_max_total=3.0)
    generator = torch.Generator().manual_seed(1)
    power = 2.0 * torch.rand(4, 3, generator=generator, dtype=torch.float64)
    metrics = network_metrics(episode, power, warmup_slots=1, served_rate=0.3)
    rates = _numpy_rates(episode, power)[:, 1:]
    alpha = episode.link_weight.numpy()
    assert metrics.sum_rate.item() == pytest.approx((alpha[:, None] * rates).sum(0).mean())
    total = power[:, 1:].sum(0).mean().item()
    assert metrics.power.item() == pytest.approx(total)
    assert metrics.power_per_link.item() == pytest.approx(total / 4)
    assert metrics.violation.item() == pytest.approx(total / 3.0 - 1)
    assert metrics.link_rate.numpy() == pytest.approx(rates.mean(1))
    assert metrics.served.item() == pytest.approx((rates.mean(1) >= 0.3).mean())


def test_batch_gives_each_network_its_own_values():
    episodes = [_episode(m=3, seed=0), _episode(m=5, seed=1)]
    powers = [
        torch.full((3, 3), 1.0, dtype=torch.float64),
        torch.full((5, 3), 0.5, dtype=torch.float64),
    ]
    batch = Batch.from_data_list(episodes)
    together = network_metrics(batch, torch.cat(powers))
    for k, (episode, power) in enumerate(zip(episodes, powers)):
        alone = network_metrics(episode, power)
        for name, values in alone.per_network().items():
            assert together.per_network()[name][k].item() == pytest.approx(values.item())


def test_samples_are_averaged_and_match_the_training_metrics():
    episodes = [_episode(m=4, seed=s) for s in range(3)]
    batch = Batch.from_data_list(episodes)
    generator = torch.Generator().manual_seed(3)
    power = 2.0 * (torch.rand(12, 3, 5, generator=generator) < 0.5).double()
    ours = network_metrics(batch, power, warmup_slots=1)
    problem = PowerProblem()
    scored = scored_slots(batch, 1)
    theirs = allocation_metrics(
        problem, batch, power, *rates_and_reward(problem, batch, power), scored
    )
    assert ours.sum_rate.mean().item() == pytest.approx(theirs["sum_rate"].item())
    assert ours.power_per_link.mean().item() == pytest.approx(theirs["power_per_link"].item())
    assert ours.violation.mean().item() == pytest.approx(theirs["violation"].item())


def test_bad_arguments_name_the_argument():
    episode = _episode()
    with pytest.raises(ValueError, match="warmup_slots"):
        network_metrics(episode, torch.ones(4, 3), warmup_slots=3)
    with pytest.raises(ValueError, match="power"):
        network_metrics(episode, torch.ones(4, 2))
    with pytest.raises(ValueError, match="served_rate"):
        network_metrics(episode, torch.ones(4, 3), served_rate=-1.0)
