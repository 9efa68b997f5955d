import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.nn import DelayedDiffusion
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC, RandomSubsets

MODES = [("none", "none"), ("log", "none"), ("log", "damped"), ("log", "mean"), ("none", "damped")]


def small_episode():
    """Four links over five slots, hand-written gains, one link asleep at slot 2."""
    gain = torch.tensor(
        [[2.0, 0.5, 0.0, 0.1], [0.3, 1.5, 0.8, 0.0], [0.0, 0.6, 3.0, 0.4], [0.2, 0.0, 0.7, 1.0]],
        dtype=torch.float64,
    )
    scale = torch.tensor([1.0, 0.5, 2.0, 1.5, 0.8], dtype=torch.float64)
    active = torch.ones(4, 5, dtype=torch.bool)
    active[1, 2] = False
    x = torch.arange(40, dtype=torch.float64).reshape(4, 5, 2) / 10
    return WirelessEpisode.from_dense(gain[:, :, None] * scale, eta0=0.25, active=active, x=x)


def run(conv, episode, all_slots=False):
    return conv(
        episode.x, episode.edge_index, episode.edge_weight, episode.eta0, all_slots=all_slots
    )


def test_repr_and_validation():
    assert repr(DelayedDiffusion(K=10)) == (
        "DelayedDiffusion(K=10, compress='log', normalization='damped')"
    )
    assert repr(DelayedDiffusion(3, "none", "mean")) == (
        "DelayedDiffusion(K=3, compress='none', normalization='mean')"
    )
    with pytest.raises(ValueError, match="K must be an integer >= 1, got 0"):
        DelayedDiffusion(K=0)
    with pytest.raises(ValueError, match="normalization must be one of"):
        DelayedDiffusion(normalization="sym")
    episode = small_episode()
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E, 5\]"):
        DelayedDiffusion(3)(episode.x, episode.edge_index, episode.edge_weight[:, :2])


@pytest.mark.parametrize("compress,normalization", MODES)
@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("K", [1, 3, 7])
def test_equals_dense_closed_form_on_hand_written_graph(
    compress, normalization, sparse, K, dense_sequences
):
    episode = small_episode()
    conv = DelayedDiffusion(K, compress, normalization, sparse=sparse)
    expected = dense_sequences(episode, K, compress, normalization)
    out = run(conv, episode)
    assert out.shape == (4, K, 2)
    torch.testing.assert_close(out, expected[:, -1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(run(conv, episode, True), expected, rtol=1e-12, atol=1e-12)


def test_first_hops_by_hand():
    episode = small_episode()
    out = run(DelayedDiffusion(3, "none", "none"), episode, all_slots=True)
    S4, S3 = episode.dense_shift(4), episode.dense_shift(3)
    torch.testing.assert_close(out[:, 4, 0], episode.x[:, 4])
    torch.testing.assert_close(out[:, 4, 1], S4 @ episode.x[:, 3])
    torch.testing.assert_close(out[:, 4, 2], S4 @ S3 @ episode.x[:, 2])
    assert torch.equal(out[:, 0, 1:], torch.zeros(4, 2, 2, dtype=torch.float64))
    # the sleeping link 1 at slot 2 sends nothing: column 1 of S(2) is zero
    assert bool((episode.dense_shift(2)[:, 1] == 0).all())


@pytest.mark.parametrize("asynchronous", [False, True])
def test_equals_closed_form_on_simulated_episode(asynchronous, dense_sequences):
    activation = RandomSubsets(8, num_subsets=4) if asynchronous else None
    episode = AdHoc(20, activation=activation).episode(14, seed=3, dtype=torch.float64)
    episode.x = torch.rand(20, 14, 3, generator=torch.Generator().manual_seed(0)).double()
    for K in (4, 10):
        expected = dense_sequences(episode, K)
        out = run(DelayedDiffusion(K), episode, all_slots=True)
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_sparse_and_message_paths_agree_and_unsorted_edges_are_sorted():
    episode = AdHoc(30).episode(12, seed=1, dtype=torch.float64)
    fused = run(DelayedDiffusion(6), episode, all_slots=True)
    messages = run(DelayedDiffusion(6, sparse=False), episode, all_slots=True)
    torch.testing.assert_close(fused, messages, rtol=1e-12, atol=1e-12)
    order = torch.randperm(episode.num_edges, generator=torch.Generator().manual_seed(0))
    shuffled = DelayedDiffusion(6)(
        episode.x, episode.edge_index[:, order], episode.edge_weight[order], episode.eta0, True
    )
    torch.testing.assert_close(shuffled, fused, rtol=1e-12, atol=1e-12)


def test_batched_equals_unbatched():
    episodes = [AdHoc(m).episode(9, seed=m) for m in (5, 12, 8)]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    conv = DelayedDiffusion(5)
    reference = batch.eta0[batch.batch[batch.edge_index[1]]]
    out = conv(batch.x, batch.edge_index, batch.edge_weight, reference)
    torch.testing.assert_close(out, torch.cat([run(conv, e) for e in episodes]))


def test_permutation_equivariance(permute):
    episode = AdHoc(15, activation=RandomSubsets(7)).episode(10, seed=2, dtype=torch.float64)
    episode.x = torch.rand(15, 10, 2, generator=torch.Generator().manual_seed(1)).double()
    perm = torch.randperm(15, generator=torch.Generator().manual_seed(2))
    conv = DelayedDiffusion(6)
    out = run(conv, episode, all_slots=True)
    torch.testing.assert_close(run(conv, permute(episode, perm), True), out[perm])


def test_gradient_reaches_the_node_signal():
    episode = small_episode()
    x = episode.x[..., :1].clone().requires_grad_()
    conv = DelayedDiffusion(3)
    torch.autograd.gradcheck(
        lambda signal: conv(signal, episode.edge_index, episode.edge_weight, episode.eta0),
        (x,),
        fast_mode=True,
    )


def _close_receivers():
    """Ad-hoc links whose receivers sit 1e-3 from their transmitters: amplitudes ~4e6."""
    scenario = AdHoc(40)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))
    layout.rx_pos[:20] = layout.tx_pos[:20] + 1e-3 / 2**0.5
    src, dst = layout.edge_index
    distance = torch.linalg.vector_norm(layout.tx_pos[src] - layout.rx_pos[dst], dim=1)
    layout.large_scale = distance.clamp_min(1e-3).pow(-2.2)
    return scenario.episode(12, seed=0, layout=layout)


EXTREMES = {
    "close receivers": _close_receivers,
    "dense cells": lambda: Cellular(4, 150, half_width=60, cell_radius=15).episode(12, seed=0),
    "d2d": lambda: D2D(60).episode(12, seed=0),
    "gaussian ic": lambda: GaussianIC(30).episode(12, seed=0),
    "large ad-hoc": lambda: AdHoc(2000, reference_links=25).episode(12, seed=0),
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_k10_stays_finite_and_informative_on_every_scenario(name):
    episode = EXTREMES[name]()
    m = episode.num_nodes
    reference = float(episode.eta0) if float(episode.eta0) > 0 else 1.0
    direct = torch.log1p(episode.direct_gain / reference)
    x = torch.stack([torch.ones_like(direct), direct], dim=-1)  # [m, T, 2] float32
    y = DelayedDiffusion(10)(x, episode.edge_index, episode.edge_weight, reference)
    assert bool(torch.isfinite(y).all())
    assert float(y.abs().max()) <= float(x.abs().max()) * (1 + 1e-5)  # damped rows sum < 1
    # informative: every hop separates the links, and deep hops have not vanished
    heard = (episode.edge_weight[:, -10:] > 0).float()
    row = torch.zeros(m, 10).index_add_(0, episode.edge_index[1], heard)
    always = (row > 0).all(dim=1)  # links that hear someone at each of the last 10 slots
    assert int(always.sum()) >= m // 2
    for k in range(1, 10):
        hop = y[always, k]
        assert float(hop[:, 0].min()) > 0.4**k * 0.99  # >= (log 2 / (1 + log 2))^k
        spread = hop.std(dim=0) / hop.mean(dim=0)
        assert float(spread.max()) > 1e-4, f"hop {k} carries no information"
    assert y[:, :, 1].unique().numel() > m // 2


def test_raw_recursion_overflows_where_the_default_does_not():
    episode = _close_receivers()
    x = torch.ones(episode.num_nodes, episode.num_slots, 1)
    raw = DelayedDiffusion(10, "none", "none")(x, episode.edge_index, episode.edge_weight)
    assert not bool(torch.isfinite(raw).all())
    safe = DelayedDiffusion(10)(x, episode.edge_index, episode.edge_weight, episode.eta0)
    assert bool(torch.isfinite(safe).all())


def test_runs_on_ten_and_ten_thousand_links(fixed_density_pair):
    small, large = fixed_density_pair
    conv = DelayedDiffusion(10)
    reference = small.eta0[small.batch[small.edge_index[1]]]
    outputs = [
        conv(small.x, small.edge_index, small.edge_weight, reference),
        run(conv, large),
    ]
    for episode, out in zip((small, large), outputs):
        assert out.shape == (episode.num_nodes, 10, 1) and bool(torch.isfinite(out).all())


@pytest.mark.slow
def test_torch_compile_equals_eager():
    episode = AdHoc(20).episode(12, seed=0)
    conv = DelayedDiffusion(5)
    compiled = torch.compile(conv)
    for all_slots in (False, True):
        torch.testing.assert_close(
            compiled(episode.x, episode.edge_index, episode.edge_weight, episode.eta0, all_slots),
            run(conv, episode, all_slots),
        )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_equals_cpu():
    episode = AdHoc(50).episode(12, seed=0, dtype=torch.float64)
    for sparse in (True, False):
        conv = DelayedDiffusion(10, sparse=sparse)
        out = run(conv, episode.to("cuda"), all_slots=True)
        torch.testing.assert_close(out.cpu(), run(conv, episode, True), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("K, slots", [(1, 5), (4, 9), (6, 6), (10, 7)])
@pytest.mark.parametrize("normalization", ["damped", "none"])
def test_buffered_autograd_and_message_paths_agree(K, slots, normalization, dense_sequences):
    """Inference writes into reused buffers; with autograd and on the gather path every
    slot allocates: all three give the dense closed form."""
    episode = AdHoc(25, activation=RandomSubsets(9)).episode(slots, seed=4, dtype=torch.float64)
    episode.x = torch.rand(25, slots, 2, generator=torch.Generator().manual_seed(5)).double()
    conv = DelayedDiffusion(K, normalization=normalization)
    expected = dense_sequences(episode, K, normalization=normalization)
    for all_slots in (False, True):
        want = expected if all_slots else expected[:, -1]
        with torch.inference_mode():
            buffered = run(conv, episode, all_slots)
        signal = episode.x.clone().requires_grad_()
        tracked = conv(signal, episode.edge_index, episode.edge_weight, episode.eta0, all_slots)
        gathered = run(
            DelayedDiffusion(K, normalization=normalization, sparse=False), episode, all_slots
        )
        assert tracked.requires_grad and not buffered.requires_grad
        for out in (buffered, tracked.detach(), gathered):
            torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
