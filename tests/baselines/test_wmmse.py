import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import WMMSE, wmmse
from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.wireless import AdHoc, GaussianIC, RandomSubsets, physics


def numpy_wmmse(H, p0, noise, alpha, num_iters, p_init=None, budget=None):
    """Literal WMMSE on one dense network; H[i, j] = amplitude Tx j -> Rx i.

    ``budget=("cap", P)`` caps every link at min(p0, P / m); ``budget=("scale", P)``
    adds the sum-power price mu, solved by Brent's method instead of bisection.
    ``p_init=None`` starts at full (capped) power.
    """
    m = H.shape[0]
    H2, d = H**2, np.diag(H)
    cap = p0.copy()
    if budget is not None and budget[0] == "cap":
        cap = np.minimum(p0, budget[1] / m)
    v = np.sqrt(cap if p_init is None else p_init)
    if budget is not None and budget[0] == "scale":
        v = v * min(1.0, np.sqrt(budget[1] / np.sum(v**2)))
    for _ in range(num_iters):
        u = d * v / (noise + H2 @ v**2)
        w = 1.0 / (1.0 - u * d * v)
        a = H2.T @ (alpha * w * u**2)
        b = alpha * w * u * d

        def v_at(mu, a=a, b=b):
            return np.clip(b / (a + mu), 0.0, np.sqrt(cap))

        v = v_at(0.0)
        if budget is not None and budget[0] == "scale" and np.sum(v**2) > budget[1]:
            excess = lambda mu, P=budget[1]: np.sum(v_at(mu) ** 2) - P  # noqa: E731
            mu = brentq(excess, 0.0, np.sqrt(np.sum(b**2) / budget[1]), xtol=1e-300, rtol=1e-15)
            v = v_at(mu)
    return v**2


def random_network(rng, m):
    H = np.abs(rng.normal(size=(m, m)) + 1j * rng.normal(size=(m, m))) / np.sqrt(2)
    H += np.diag(rng.uniform(0.5, 1.5, m))  # a stronger direct link, as in real layouts
    return H


def _random_links(rng, sizes):
    """Channels, per-link maximum powers, noise powers and weights of networks of ``sizes``."""
    nets = [random_network(rng, m) for m in sizes]
    p0 = [rng.uniform(0.5, 2.0, m) for m in sizes]
    noise = [rng.uniform(0.05, 1.0, m) for m in sizes]
    alpha = [rng.uniform(0.1, 1.0, m) for m in sizes]
    return nets, p0, noise, alpha


def test_matches_numpy_reference_on_batched_networks_of_different_sizes(batched_edges):
    rng = np.random.default_rng(0)
    sizes = [3, 6, 5, 1]
    nets, p0, noise, alpha = _random_links(rng, sizes)
    direct, edge_index, edge_gain, batch = batched_edges(nets)
    for budget, p_max in ((None, None), ("cap", 2.0), ("scale", 1.5)):
        power = wmmse(
            direct,
            edge_index,
            edge_gain,
            torch.tensor(np.concatenate(p0)),
            torch.tensor(np.concatenate(noise)),
            torch.tensor(np.concatenate(alpha)),
            num_iters=40,
            budget=budget or "none",
            p_max_total=p_max,
            batch=batch,
        )
        expected = np.concatenate(
            [
                numpy_wmmse(
                    H, p0[k], noise[k], alpha[k], 40, budget=(budget, p_max) if budget else None
                )
                for k, H in enumerate(nets)
            ]
        )
        np.testing.assert_allclose(power.numpy(), expected, rtol=0, atol=1e-8)


@pytest.mark.parametrize("path", ["dense", "sparse"])
@pytest.mark.parametrize("budget", ["none", "cap", "scale"])
def test_dense_and_sparse_paths_match_reference_over_slots(path, budget):
    rng = np.random.default_rng(1)
    B, m, T = 3, 5, 4
    H = np.stack([np.stack([random_network(rng, m) for _ in range(T)], -1) for _ in range(B)])
    episodes = [WirelessEpisode.from_dense(torch.tensor(H[b]), max_power=1.5) for b in range(B)]
    batch = next(iter(DataLoader(episodes, batch_size=B)))
    power = wmmse(
        batch.direct_gain,
        batch.edge_index,
        batch.edge_gain,
        batch.max_power,
        0.3,
        num_iters=25,
        budget=budget,
        p_max_total=3.0,
        batch=batch.batch,
        path=path,
    )
    assert power.shape == (B * m, T)
    for b in range(B):
        for t in range(T):
            spec = None if budget == "none" else (budget, 3.0)
            expected = numpy_wmmse(H[b, :, :, t], np.full(m, 1.5), 0.3, np.ones(m), 25, budget=spec)
            got = power[b * m : (b + 1) * m, t].numpy()
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)


def test_dense_path_with_missing_and_shuffled_pairs():
    rng = np.random.default_rng(7)
    B, m = 3, 4
    H = np.stack([random_network(rng, m) for _ in range(B)])
    H[H < 0.5] = 0.0  # absent pairs
    for b in range(B):
        np.fill_diagonal(H[b], rng.uniform(0.5, 1.5, m))
    direct, edge_index, edge_gain = [], [], []
    for b in range(B):
        d, ei, eg = physics.dense_to_edges(torch.tensor(H[b]))
        keep = eg > 0
        direct.append(d)
        edge_index.append(ei[:, keep] + b * m)
        edge_gain.append(eg[keep])
    edge_index, edge_gain = torch.cat(edge_index, 1), torch.cat(edge_gain)
    shuffle = torch.randperm(edge_gain.numel(), generator=torch.Generator().manual_seed(0))
    batch = torch.arange(B).repeat_interleave(m)
    args = (torch.cat(direct), edge_index[:, shuffle], edge_gain[shuffle], 1.0, 0.1)
    dense = wmmse(*args, num_iters=30, batch=batch, path="dense")
    sparse = wmmse(*args, num_iters=30, batch=batch, path="sparse")
    for b in range(B):
        expected = numpy_wmmse(H[b], np.ones(m), 0.1, np.ones(m), 30)
        np.testing.assert_allclose(dense[b * m : (b + 1) * m].numpy(), expected, rtol=0, atol=1e-10)
    torch.testing.assert_close(dense, sparse, rtol=0, atol=1e-12)
    across = torch.tensor([[0], [m]])  # an edge between two networks
    with pytest.raises(ValueError, match="same network"):
        wmmse(
            args[0],
            torch.cat([edge_index, across], 1),
            torch.cat([edge_gain, torch.ones(1, dtype=torch.float64)]),
            batch=batch,
            path="dense",
        )


def test_complete_pattern_check_against_the_literal_order():
    """The dense path reuses the gains as its matrices only for the exact pattern: every
    pair (j, i) of every network, victim-major; any other order goes through index_add.
    """
    from pyg_aggnn.baselines._operators import _complete_victim_major

    B, m = 3, 4
    pairs = [(b * m + j, b * m + i) for b in range(B) for i in range(m) for j in range(m)]
    src, dst = torch.tensor(pairs).T
    assert _complete_victim_major(src, dst, B, m)
    swapped = src.clone()
    swapped[[5, 6]] = swapped[[6, 5]]  # two senders of one victim exchanged
    assert not _complete_victim_major(swapped, dst, B, m)
    assert not _complete_victim_major(dst, src, B, m)  # sender-major
    assert not _complete_victim_major(src[:-1], dst[:-1], B, m)  # a pair missing
    moved = dst.clone()
    moved[-1] = 0  # a victim in another network
    assert not _complete_victim_major(src, moved, B, m)


def test_given_and_random_initial_points():
    rng = np.random.default_rng(2)
    H = random_network(rng, 6)
    d, ei, eg = physics.dense_to_edges(torch.tensor(H))
    start = rng.uniform(0.0, 1.0, 6)
    power = wmmse(d, ei, eg, 1.0, 0.5, num_iters=7, init=torch.tensor(start))
    expected = numpy_wmmse(H, np.ones(6), 0.5, np.ones(6), 7, start)
    np.testing.assert_allclose(power.numpy(), expected, rtol=0, atol=1e-10)

    first = wmmse(
        d, ei, eg, 1.0, 0.5, num_iters=1, init="random", generator=torch.Generator().manual_seed(3)
    )
    again = wmmse(
        d, ei, eg, 1.0, 0.5, num_iters=1, init="random", generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(first, again)
    u = torch.rand(6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = numpy_wmmse(H, np.ones(6), 0.5, np.ones(6), 1, u.numpy())
    np.testing.assert_allclose(first.numpy(), expected, rtol=0, atol=1e-10)


def _weighted_sum_rate(power, d, ei, eg, noise, alpha):
    return float(physics.sum_rate(physics.rate(power, d, ei, eg, noise), weight=alpha))


@pytest.mark.parametrize("budget", ["none", "cap", "scale"])
@pytest.mark.parametrize("init", ["full", "random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_sum_rate_never_decreases_and_powers_stay_in_bounds(budget, init, seed):
    """With u, w at their optimum the WMMSE cost is sum(alpha) - WSR, so the weighted
    sum rate (on the pairs the algorithm uses) must be non-decreasing."""
    gen = torch.Generator().manual_seed(seed)
    m = 7
    gain = torch.rand(m, m, generator=gen, dtype=torch.float64) ** 2
    gain += torch.diag(torch.rand(m, generator=gen, dtype=torch.float64))
    gain[torch.rand(m, m, generator=gen) < 0.3] = 0.0  # sparse interference pattern
    d, ei, eg = physics.dense_to_edges(gain)
    p0 = 0.5 + torch.rand(m, generator=gen, dtype=torch.float64)
    alpha = torch.rand(m, generator=gen, dtype=torch.float64) + 0.05
    noise, p_max = 0.05, 2.0
    cap = torch.minimum(p0, torch.tensor(p_max / m)) if budget == "cap" else p0
    previous = -np.inf
    for k in range(1, 30):
        power = wmmse(
            d,
            ei,
            eg,
            p0,
            noise,
            alpha,
            num_iters=k,
            init=init,
            budget=budget,
            p_max_total=p_max,
            generator=torch.Generator().manual_seed(seed),
        )
        value = _weighted_sum_rate(power, d, ei, eg, noise, alpha)
        assert value >= previous - 1e-12
        previous = value
        assert bool((power >= 0).all()) and bool((power <= cap * (1 + 1e-12)).all())
        if budget != "none":
            assert float(power.sum()) <= p_max * (1 + 1e-12)


def test_scale_budget_reaches_water_filling_without_interference():
    """Without interference the problem is concave and the budgeted WMMSE must reach
    weighted water-filling, p_i = clip(alpha_i / lam - noise / g_i, 0, p0)."""
    rng = np.random.default_rng(6)
    m, noise, p0, p_max = 5, 0.2, 1.0, 2.0
    g = rng.uniform(0.2, 2.0, m)
    alpha = rng.uniform(0.5, 1.0, m)
    d = torch.tensor(np.sqrt(g))
    ei = torch.stack([torch.arange(m), torch.arange(m)])
    power = wmmse(
        d,
        ei,
        d,
        p0,
        noise,
        torch.tensor(alpha),
        num_iters=3000,
        tol=1e-13,
        budget="scale",
        p_max_total=p_max,
    )

    def fill(lam):
        return np.clip(alpha / lam - noise / g, 0.0, p0)

    lam = brentq(lambda x: fill(x).sum() - p_max, 1e-6, 1e6, xtol=1e-300, rtol=1e-15)
    np.testing.assert_allclose(power.numpy(), fill(lam), rtol=0, atol=1e-6)
    assert float(power.sum()) == pytest.approx(p_max, rel=1e-12)


def test_tolerance_stops_each_network_independently_of_the_batch():
    rng = np.random.default_rng(4)
    episodes = [
        WirelessEpisode.from_dense(torch.tensor(random_network(rng, m))[:, :, None])
        for m in (4, 6, 3)
    ]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    run = dict(num_iters=1000, tol=1e-10)
    together = wmmse(batch.direct_gain, batch.edge_index, batch.edge_gain, batch=batch.batch, **run)
    for k, ep in enumerate(episodes):
        alone = wmmse(ep.direct_gain, ep.edge_index, ep.edge_gain, **run)
        # equal to rounding (batched products may round differently from one CPU to
        # another), far closer than a network stopped one iteration later or earlier
        torch.testing.assert_close(together[batch.batch == k], alone, rtol=1e-13, atol=1e-20)
        later = wmmse(ep.direct_gain, ep.edge_index, ep.edge_gain, num_iters=1000, tol=1e-13)
        assert float((later - alone).abs().max()) > 1e-3 * 1e-10
        converged = wmmse(ep.direct_gain, ep.edge_index, ep.edge_gain, num_iters=3000)
        assert torch.allclose(alone, converged, atol=1e-7)


def test_permutation_equivariance():
    rng = np.random.default_rng(5)
    H = torch.tensor(random_network(rng, 6))
    alpha = torch.tensor(rng.uniform(0.2, 1.0, 6))
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    out = wmmse(*physics.dense_to_edges(H), 1.0, 0.2, alpha, num_iters=20)
    out_perm = wmmse(*physics.dense_to_edges(H[perm][:, perm]), 1.0, 0.2, alpha[perm], num_iters=20)
    torch.testing.assert_close(out_perm, out[perm], rtol=0, atol=1e-12)


def test_distributed_equals_centralized_on_a_complete_graph():
    scenario = GaussianIC(num_links=6, snr_db=10.0)  # eta0 = 0, everyone active
    episodes = [scenario.episode(5, seed=s, dtype=torch.float64) for s in range(3)]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    assert bool((batch.edge_weight == batch.edge_gain).all())
    for budget in ("none", "cap", "scale"):
        dist = WMMSE("distributed", num_iters=8, budget=budget)(batch)
        cent = WMMSE("centralized", num_iters=8, budget=budget)(batch)
        assert torch.equal(dist, cent)


def test_distributed_uses_only_the_slot_graph():
    scenario = AdHoc(num_links=8, eta0=0.02, activation=RandomSubsets(5.0))
    episode = scenario.episode(4, seed=7, dtype=torch.float64)
    power = WMMSE("distributed", num_iters=5, budget="none")(episode)
    assert bool((episode.edge_weight == 0).any()) and bool((episode.edge_weight > 0).any())
    for t in range(4):
        H = episode.dense_shift(t).numpy()
        np.fill_diagonal(H, episode.direct_gain[:, t].numpy())
        p0 = episode.max_power.numpy()
        expected = numpy_wmmse(H, p0, episode.noise_power.numpy(), np.ones(8), 5)
        np.testing.assert_allclose(power[:, t].numpy(), expected, rtol=0, atol=1e-8)


def test_class_meets_the_budget_and_repr():
    scenario = AdHoc(num_links=6)  # p0 = 2, P_max = m: the cap is P_max / m = 1
    episode = scenario.episode(3, seed=0, dtype=torch.float64)
    policy = WMMSE(mode="centralized", budget="cap")
    power = policy(episode)
    assert bool((power <= 1.0 + 1e-12).all())
    assert repr(policy) == (
        "WMMSE(mode='centralized', num_iters=100, tol=None, budget='cap', init='full', "
        "update_every=1, when_active=False)"
    )
    assert WMMSE().num_iters == 5


def test_float32_episode():
    episode = GaussianIC(num_links=5).episode(2, seed=1)
    power = WMMSE("centralized", budget="none")(episode)
    assert power.dtype == torch.float32
    double = episode.clone().apply(lambda x: x.double() if x.is_floating_point() else x)
    reference = WMMSE("centralized", budget="none")(double)
    torch.testing.assert_close(power.double(), reference, rtol=0, atol=1e-3)


def test_bad_inputs_raise_value_error_naming_the_argument():
    H = torch.rand(3, 3, dtype=torch.float64)
    d, ei, eg = physics.dense_to_edges(H)
    cases = [
        (dict(num_iters=0), "num_iters"),
        (dict(tol=-1.0), "tol"),
        (dict(budget="half"), "budget"),
        (dict(budget="cap"), "p_max_total"),
        (dict(init="zeros"), "init"),
        (dict(init=-torch.ones(3, dtype=torch.float64)), "init"),
        (dict(path="gpu"), "path"),
        (dict(noise_power=0.0), "noise_power"),
        (dict(max_power=-1.0), "max_power"),
        (dict(link_weight=-torch.ones(3)), "link_weight"),
        (dict(batch=torch.tensor([0, 0, 1]), path="dense"), "dense"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValueError, match=name):
            wmmse(d, ei, eg, **kwargs)
    with pytest.raises(ValueError, match="edge_gain"):
        wmmse(d, ei, -eg)
    with pytest.raises(ValueError, match="edge_gain"):
        wmmse(d, ei, eg[:, None].expand(9, 2))
    with pytest.raises(ValueError, match="edge_index"):
        wmmse(d, ei + 5, eg)
    with pytest.raises(ValueError, match="mode"):
        WMMSE(mode="local")
    with pytest.raises(ValueError, match="tol"):
        WMMSE(mode="distributed", tol=1e-6)
    with pytest.raises(ValueError, match="update_every"):
        WMMSE(update_every=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_cuda_matches_cpu(path):
    episodes = [GaussianIC(num_links=8).episode(3, seed=s, dtype=torch.float64) for s in range(4)]
    batch = next(iter(DataLoader(episodes, batch_size=4)))
    for budget in ("cap", "scale"):
        policy = WMMSE("centralized", num_iters=30, budget=budget, path=path)
        cpu = policy(batch)
        gpu = policy(batch.to("cuda"))
        assert gpu.is_cuda
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-10)


@pytest.mark.parametrize("budget", ["none", "scale"])
def test_dense_blocks_give_the_same_powers(monkeypatch, budget):
    from pyg_aggnn.baselines import _operators

    episodes = [GaussianIC(num_links=5).episode(3, seed=s, dtype=torch.float64) for s in range(5)]
    batch = next(iter(DataLoader(episodes, batch_size=5)))
    args = (batch.direct_gain, batch.edge_index, batch.edge_gain)
    kwargs = dict(budget=budget, p_max_total=2.0, batch=batch.batch, path="dense", tol=1e-9)
    whole = wmmse(*args, **kwargs)
    # the matrices of two problems per block
    monkeypatch.setattr(_operators, "_BLOCK_BYTES", 2 * 5 * 5 * 8)
    assert (
        len(
            _operators.build_operator(
                batch.edge_index, batch.edge_gain.square(), batch.batch, 5, "dense"
            ).blocks()
        )
        == 8
    )
    torch.testing.assert_close(wmmse(*args, **kwargs), whole, rtol=0, atol=1e-14)


def numpy_wmmse_fixed_price(H, p0, noise, alpha, num_iters, price):
    """Literal WMMSE with a fixed sum-power price mu in the v-step's denominator."""
    H2, d = H**2, np.diag(H)
    v = np.sqrt(p0)
    for _ in range(num_iters):
        u = d * v / (noise + H2 @ v**2)
        w = 1.0 / (1.0 - u * d * v)
        v = np.clip(alpha * w * u * d / (H2.T @ (alpha * w * u**2) + price), 0.0, np.sqrt(p0))
    return v**2


@pytest.mark.parametrize("price", [0.0, 0.05, 0.7, 5.0])
@pytest.mark.parametrize("sizes, path", [([2, 5, 4, 1], "sparse"), ([4, 4, 4], "dense")])
def test_fixed_price_matches_numpy_reference(price, sizes, path, batched_edges):
    rng = np.random.default_rng(7)
    nets, p0, noise, alpha = _random_links(rng, sizes)
    direct, edge_index, edge_gain, batch = batched_edges(nets)
    power = wmmse(
        direct,
        edge_index,
        edge_gain,
        torch.tensor(np.concatenate(p0)),
        torch.tensor(np.concatenate(noise)),
        torch.tensor(np.concatenate(alpha)),
        num_iters=6,
        budget="price",
        price=price,
        batch=batch,
        path=path,
    )
    expected = np.concatenate(
        [
            numpy_wmmse_fixed_price(H, p0[k], noise[k], alpha[k], 6, price)
            for k, H in enumerate(nets)
        ]
    )
    np.testing.assert_allclose(power.numpy(), expected, rtol=0, atol=1e-8)


def test_fixed_price_zero_is_no_budget_and_a_price_lowers_power():
    episode = AdHoc(num_links=7).episode(4, seed=2, dtype=torch.float64)
    free = WMMSE("distributed", budget="none")(episode)
    assert torch.equal(WMMSE("distributed", budget="price", price=0.0)(episode), free)
    totals = [
        WMMSE("distributed", budget="price", price=mu)(episode).sum(0) for mu in (0.0, 0.1, 1.0)
    ]
    assert bool((totals[1] <= totals[0] + 1e-9).all()) and bool((totals[2] < totals[1]).any())


@pytest.mark.parametrize("seed", [0, 1])
def test_fixed_price_lagrangian_never_decreases(seed):
    rng = np.random.default_rng(seed)
    H = random_network(rng, 6)
    d, ei, eg = physics.dense_to_edges(torch.tensor(H))
    noise, alpha, price = 0.2, torch.tensor(rng.uniform(0.2, 1.0, 6)), 0.3
    values = []
    for k in range(1, 15):
        p = wmmse(d, ei, eg, 1.5, noise, alpha, num_iters=k, budget="price", price=price)
        assert bool((p >= 0).all()) and bool((p <= 1.5 + 1e-12).all())
        values.append(_weighted_sum_rate(p, d, ei, eg, noise, alpha) - price * float(p.sum()))
    assert all(b >= a - 1e-10 for a, b in zip(values, values[1:]))


def test_fixed_price_arguments():
    d, ei, eg = physics.dense_to_edges(torch.rand(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"price must be >= 0, got -0\.5"):
        wmmse(d, ei, eg, budget="price", price=-0.5)
    with pytest.raises(ValueError, match="price is required"):
        wmmse(d, ei, eg, budget="price")
    with pytest.raises(ValueError, match="price"):
        wmmse(d, ei, eg, budget="none", price=1.0)
    with pytest.raises(ValueError, match=r"price must be >= 0, got -1"):
        WMMSE(budget="price", price=-1)
    with pytest.raises(ValueError, match="price"):
        WMMSE(budget="scale", price=0.1)
    episode = AdHoc(num_links=3).episode(2, seed=0)
    with pytest.raises(ValueError, match="calibrate"):
        WMMSE(budget="price")(episode)
    assert "budget='price', price=0.25, init='full'" in repr(WMMSE(budget="price", price=0.25))
