import itertools

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from pyg_aggnn.baselines import BinaryBound, Exhaustive, binary_bound
from pyg_aggnn.wireless import AdHoc, physics


def numpy_values(H, patterns, p0, noise, alpha):
    """Weighted sum rate of every on/off pattern (rows of ``patterns``), dense NumPy."""
    g = H**2
    power = patterns * p0  # [P, m]
    signal = power * np.diag(g)
    interference = power @ g.T - signal
    return np.sum(alpha * np.log1p(signal / (noise + interference)), axis=1)


def brute_force(H, p0, noise, alpha, p_max):
    """The best value over all 2^m patterns that meet the budget."""
    m = H.shape[0]
    patterns = np.array(list(itertools.product([0.0, 1.0], repeat=m)))
    values = numpy_values(H, patterns, p0, noise, alpha)
    feasible = (patterns * p0).sum(axis=1) <= p_max + 1e-12
    return values[feasible].max()


def numpy_search(H, p0, noise, alpha, p_max, max_passes):
    """Greedy from all off, then the best single flip or swap per round, literally."""
    m = H.shape[0]

    def value(on):
        return numpy_values(H, on[None].astype(float), p0, noise, alpha)[0]

    def feasible(on):
        return (on * p0).sum() <= p_max + 1e-12

    on = np.zeros(m, dtype=bool)
    current = value(on)
    while True:
        moves = [on ^ (np.arange(m) == c) for c in range(m) if not on[c]]
        scored = [(value(x), x) for x in moves if feasible(x)]
        best = max(scored, key=lambda t: t[0], default=(-np.inf, None))
        if not best[0] > current + 1e-12:
            break
        current, on = best
    for _ in range(max_passes):
        moves = [on ^ (np.arange(m) == c) for c in range(m)]
        moves += [
            on ^ (np.arange(m) == a) ^ (np.arange(m) == b)
            for a in range(m)
            for b in range(m)
            if on[a] and not on[b]
        ]
        scored = [(value(x), x) for x in moves if feasible(x)]
        best = max(scored, key=lambda t: t[0], default=(-np.inf, None))
        if not best[0] > current + 1e-12:
            break
        current, on = best
    return on * p0, current


def random_network(rng, m):
    return np.abs(rng.normal(size=(m, m))) + np.diag(rng.uniform(0.2, 2.0, m))


def _instance(rng, m):
    H = random_network(rng, m)
    p0 = rng.uniform(0.5, 1.5, m)
    alpha = rng.uniform(0.1, 1.0, m)
    p_max = float(rng.uniform(0.3, 0.6) * p0.sum())
    return H, p0, alpha, p_max


def _call(nets, batched_edges, noise=0.1, **kwargs):
    direct, edge_index, edge_gain, batch = batched_edges([H for H, _, _, _ in nets])
    return binary_bound(
        direct,
        edge_index,
        edge_gain,
        torch.tensor(np.concatenate([p0 for _, p0, _, _ in nets])),
        noise,
        torch.tensor(np.concatenate([a for _, _, a, _ in nets])),
        torch.tensor([p for _, _, _, p in nets], dtype=torch.float64),
        batch,
        **kwargs,
    )


def _split(power, nets):
    sizes = [H.shape[0] for H, _, _, _ in nets]
    return np.split(power.numpy(), np.cumsum(sizes)[:-1])


def test_equals_brute_force_on_batched_tiny_networks(batched_edges):
    rng = np.random.default_rng(0)
    nets = [_instance(rng, m) for m in (1, 3, 8, 5, 2, 7, 6, 4)]
    power = _call(nets, batched_edges)
    for got, (H, p0, alpha, p_max) in zip(_split(power, nets), nets):
        assert set(np.unique(got / p0)) <= {0.0, 1.0}
        assert got.sum() <= p_max + 1e-12
        value = numpy_values(H, (got / p0)[None], p0, 0.1, alpha)[0]
        assert value == pytest.approx(brute_force(H, p0, 0.1, alpha, p_max), rel=1e-12)


@pytest.mark.parametrize("m", [12, 14, 16])
def test_enumeration_equals_brute_force_up_to_16_links(m, batched_edges):
    rng = np.random.default_rng(m)
    nets = [_instance(rng, m)]
    (got,) = _split(_call(nets, batched_edges), nets)
    H, p0, alpha, p_max = nets[0]
    value = numpy_values(H, (got / p0)[None], p0, 0.1, alpha)[0]
    assert got.sum() <= p_max + 1e-12
    assert value == pytest.approx(brute_force(H, p0, 0.1, alpha, p_max), rel=1e-12)


def test_search_matches_a_literal_numpy_search(batched_edges):
    rng = np.random.default_rng(1)
    nets = [_instance(rng, m) for m in (6, 11, 9, 12, 3)]
    for passes in (0, 50):
        power = _call(nets, batched_edges, exact_links=0, max_passes=passes)
        for got, (H, p0, alpha, p_max) in zip(_split(power, nets), nets):
            expected, _ = numpy_search(H, p0, 0.1, alpha, p_max, passes)
            np.testing.assert_array_equal(got, expected)


def test_local_search_improves_on_greedy_within_the_budget(batched_edges):
    rng = np.random.default_rng(2)
    nets = [_instance(rng, m) for m in rng.integers(4, 13, size=24)]
    greedy = _split(_call(nets, batched_edges, exact_links=0, max_passes=0), nets)
    search = _split(_call(nets, batched_edges, exact_links=0), nets)
    gains = []
    for a, b, (H, p0, alpha, p_max) in zip(greedy, search, nets):
        assert a.sum() <= p_max + 1e-12 and b.sum() <= p_max + 1e-12
        va, vb = numpy_values(H, np.stack([a / p0, b / p0]), p0, 0.1, alpha)
        assert vb >= va
        assert vb <= brute_force(H, p0, 0.1, alpha, p_max) * (1 + 1e-12)
        gains.append(vb - va)
    assert max(gains) > 1e-3  # the local search does something on these instances


@pytest.mark.parametrize("neighbours_only", [False, True])
def test_equals_exhaustive_on_episodes_of_at_most_10_links(neighbours_only):
    episodes = [AdHoc(num_links=m).episode(2, seed=m, dtype=torch.float64) for m in (4, 7, 10)]
    batch = Batch.from_data_list(episodes)
    ours = BinaryBound(neighbours_only=neighbours_only)(batch)
    exact = Exhaustive(neighbours_only=neighbours_only)(batch)
    rates = [batch.rates(p, neighbours_only=neighbours_only) for p in (ours, exact)]
    values = [physics.sum_rate(r, batch.batch, batch.link_weight) for r in rates]
    torch.testing.assert_close(values[0], values[1], rtol=1e-12, atol=0)
    heuristic = BinaryBound(neighbours_only=neighbours_only, exact_links=0)(batch)
    rate = batch.rates(heuristic, neighbours_only=neighbours_only)
    value = physics.sum_rate(rate, batch.batch, batch.link_weight)
    assert bool((value <= values[1] * (1 + 1e-12)).all())


def test_batched_equals_unbatched_and_meets_the_budget():
    episodes = [AdHoc(num_links=m).episode(3, seed=m) for m in (12, 9, 16)]
    policy = BinaryBound(exact_links=10)  # both the enumeration and the search
    together = policy(Batch.from_data_list(episodes))
    alone = torch.cat([policy(e) for e in episodes])
    assert torch.equal(together, alone)
    start = 0
    for e in episodes:
        part = together[start : start + e.num_nodes]
        assert bool((part.sum(0) <= e.p_max_total * (1 + 1e-5)).all())
        assert bool(((part == 0) | (part == e.max_power[:, None])).all())
        start += e.num_nodes


@pytest.mark.parametrize("exact_links", [16, 0])
def test_permutation_equivariance(exact_links):
    episode = AdHoc(num_links=9).episode(3, seed=3, dtype=torch.float64)
    d, ei, eg, p0, noise = (
        episode.direct_gain,
        episode.edge_index,
        episode.edge_gain,
        episode.max_power,
        episode.noise_power,
    )
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(0))
    inverse = torch.argsort(perm)
    power = binary_bound(d, ei, eg, p0, noise, None, 9.0, exact_links=exact_links)
    permuted = binary_bound(
        d[perm], inverse[ei], eg, p0[perm], noise[perm], None, 9.0, exact_links=exact_links
    )
    assert torch.equal(permuted, power[perm])


def test_repr_and_bad_arguments():
    assert repr(BinaryBound()) == (
        "BinaryBound(budget=True, neighbours_only=False, update_every=1, when_active=False, "
        "exact_links=16, max_passes=50)"
    )
    for kwargs, name in (
        (dict(exact_links=17), "exact_links"),
        (dict(exact_links=-1), "exact_links"),
        (dict(max_passes=-1), "max_passes"),
        (dict(budget="yes"), "budget"),
        (dict(neighbours_only=1), "neighbours_only"),
        (dict(update_every=0), "update_every"),
    ):
        with pytest.raises(ValueError, match=name):
            BinaryBound(**kwargs)
    d, ei, eg = physics.dense_to_edges(torch.rand(3, 3, dtype=torch.float64))
    p0 = torch.ones(3, dtype=torch.float64)
    for kwargs, name in (
        (dict(exact_links=20), "exact_links"),
        (dict(max_passes=1.5), "max_passes"),
        (dict(p_max_total=-1.0), "p_max_total"),
        (dict(noise_power=0.0), "noise_power"),
    ):
        with pytest.raises(ValueError, match=name):
            binary_bound(d, ei, eg, p0, **kwargs)
    with pytest.raises(ValueError, match="max_power"):
        binary_bound(d, ei, eg, -p0)
    with pytest.raises(ValueError, match="edge_gain"):
        binary_bound(d, ei, -eg, p0)
