import itertools

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import (
    WMMSE,
    EqualPower,
    Exhaustive,
    RandomFullPower,
    Strongest,
    exhaustive,
)
from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.wireless import AdHoc, GaussianIC, physics


def numpy_weighted_sum_rate(H, p, noise, alpha):
    g = H**2
    signal = np.diag(g) * p
    interference = g @ p - signal
    return float(np.sum(alpha * np.log1p(signal / (noise + interference))))


def brute_force(H, p0, noise, alpha, p_max=None):
    m = H.shape[0]
    best, best_p = -np.inf, None
    for bits in itertools.product([0, 1], repeat=m):
        p = p0 * np.array(bits, dtype=float)
        if p_max is not None and p.sum() > p_max + 1e-12:
            continue
        value = numpy_weighted_sum_rate(H, p, noise, alpha)
        if value > best:
            best, best_p = value, p
    return best, best_p


@pytest.mark.parametrize("p_max", [None, 2.5])
def test_matches_brute_force_on_batched_networks(p_max, batched_edges):
    rng = np.random.default_rng(0)
    sizes = [3, 6, 1, 5]
    nets = [np.abs(rng.normal(size=(m, m))) + np.diag(rng.uniform(0, 1, m)) for m in sizes]
    p0 = [rng.uniform(0.5, 1.5, m) for m in sizes]
    alpha = [rng.uniform(0.1, 1, m) for m in sizes]
    direct, edge_index, edge_gain, batch = batched_edges(nets)
    power = exhaustive(
        direct,
        edge_index,
        edge_gain,
        torch.tensor(np.concatenate(p0)),
        0.1,
        torch.tensor(np.concatenate(alpha)),
        p_max,
        batch,
    )
    start = 0
    for k, H in enumerate(nets):
        m = H.shape[0]
        best, _ = brute_force(H, p0[k], 0.1, alpha[k], p_max)
        got = power[start : start + m].numpy()
        assert numpy_weighted_sum_rate(H, got, 0.1, alpha[k]) == pytest.approx(best, rel=1e-12)
        assert set(np.unique(got / p0[k])) <= {0.0, 1.0}
        if p_max is not None:
            assert got.sum() <= p_max + 1e-12
        start += m


def test_beats_or_ties_every_binary_method_on_small_networks():
    """Random full power, strongest links and equal power (binary when P_max = m p0)
    are binary allocations: none may beat the exhaustive optimum in any slot."""
    episodes = [
        GaussianIC(num_links=6, snr_db=10.0).episode(4, seed=s, dtype=torch.float64)
        for s in range(3)
    ]
    episodes += [AdHoc(num_links=7).episode(4, seed=s, dtype=torch.float64) for s in range(3)]
    batch = next(iter(DataLoader(episodes, batch_size=len(episodes))))
    for budget in (True, False):
        best = physics.sum_rate(batch.rates(Exhaustive(budget=budget)(batch)), batch.batch)
        others = [Strongest(fraction=f)(batch) for f in (0.2, 0.5, 1.0)]
        others += [RandomFullPower()(batch, torch.Generator().manual_seed(s)) for s in range(20)]
        for power in others:
            if budget:  # compare only with allocations that meet the same budget
                ok = physics.power_budget_slack(power, batch.p_max_total, batch.batch) >= 0
            else:
                ok = torch.ones_like(best, dtype=torch.bool)
            value = physics.sum_rate(batch.rates(power), batch.batch)
            assert bool((value[ok] <= best[ok] + 1e-12).all())
    gic = next(iter(DataLoader(episodes[:3], batch_size=3)))  # P_max = m p0: equal is binary
    equal = physics.sum_rate(gic.rates(EqualPower()(gic)), gic.batch)
    assert bool((equal <= physics.sum_rate(gic.rates(Exhaustive()(gic)), gic.batch) + 1e-12).all())


def test_beats_or_ties_wmmse_on_two_link_networks():
    """For two links the sum-rate optimum is binary (Gjendemsjo et al., 2008), so the
    exhaustive search bounds even the continuous WMMSE there."""
    rng = np.random.default_rng(3)
    episodes = [
        WirelessEpisode.from_dense(torch.tensor(np.abs(rng.normal(size=(2, 2, 5)))), max_power=2.0)
        for _ in range(20)
    ]
    batch = next(iter(DataLoader(episodes, batch_size=20)))
    best = physics.sum_rate(batch.rates(Exhaustive(budget=False)(batch)), batch.batch)
    for init in ("full", "random"):
        policy = WMMSE("centralized", budget="none", init=init)
        value = physics.sum_rate(
            batch.rates(policy(batch, torch.Generator().manual_seed(0))), batch.batch
        )
        assert bool((value <= best + 1e-9).all())


def test_neighbours_only_and_repr():
    episode = AdHoc(num_links=6, eta0=0.05).episode(3, seed=2, dtype=torch.float64)
    power = Exhaustive(neighbours_only=True)(episode)
    best = physics.sum_rate(episode.rates(power, neighbours_only=True))
    for t in range(3):
        H = episode.dense_gain(t, neighbours_only=True).numpy()
        np.fill_diagonal(H, episode.direct_gain[:, t].numpy())
        value, _ = brute_force(H, np.full(6, 2.0), 1.0, np.ones(6), 6.0)
        assert float(best[0, t]) == pytest.approx(value, rel=1e-12)
    assert repr(Exhaustive()) == (
        "Exhaustive(budget=True, neighbours_only=False, update_every=1, when_active=False)"
    )


def test_bad_inputs():
    d, ei, eg = physics.dense_to_edges(torch.rand(17, 17, dtype=torch.float64))
    with pytest.raises(ValueError, match="at most 16 links"):
        exhaustive(d, ei, eg, torch.ones(17, dtype=torch.float64))
    d, ei, eg = physics.dense_to_edges(torch.rand(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="p_max_total"):
        exhaustive(d, ei, eg, torch.ones(3, dtype=torch.float64), p_max_total=-1.0)
    with pytest.raises(ValueError, match="edge_gain"):
        exhaustive(d, ei, eg[:4], torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="budget"):
        Exhaustive(budget="yes")
