import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import WMMSE, WMMSEBeamforming, wmmse, wmmse_beamforming
from pyg_aggnn.baselines._beam_operators import hermitian_eigh
from pyg_aggnn.wireless import MISOD2D, miso


def _dense(num_links, antennas, seed, scale=1.0):
    """A dense MISO network: ``H[j, k]`` = channel Tx ``j`` -> Rx ``k`` (complex128)."""
    rng = np.random.default_rng(seed)
    shape = (num_links, num_links, antennas)
    H = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * scale
    H[np.arange(num_links), np.arange(num_links)] *= 3.0  # direct links stronger
    return H


def _edges(H):
    """``H`` as ``(direct [K, N_t], edge_index, edge_channel [K*K, N_t])`` torch tensors."""
    K = H.shape[0]
    src, dst = np.meshgrid(np.arange(K), np.arange(K), indexing="ij")
    edge_index = torch.tensor(np.stack([src.ravel(), dst.ravel()]))
    channel = torch.tensor(H.reshape(K * K, -1))
    direct = torch.tensor(H[np.arange(K), np.arange(K)])
    return direct, edge_index, channel


def _numpy_wmmse(H, P, noise, w, iters, v0, trace=None):
    """Shi et al. (2011), MISO interference channel, written out link by link.

    The v-step solves ``(A_k + mu I) v = b_k`` with ``np.linalg.solve`` and bisects on
    ``mu`` until ``||v||^2 = P_k`` (an independent method: no eigendecomposition).
    ``trace`` collects the WMMSE cost after every block update.
    """
    K, _, Nt = H.shape
    v = v0.copy()

    def cost(u, omega, v):
        amp = np.einsum("jkn,jn->jk", H.conj(), v)
        e = np.empty(K)
        for k in range(K):
            total = np.sum(np.abs(amp[:, k]) ** 2) + noise[k]
            e[k] = abs(u[k]) ** 2 * total - 2 * (np.conj(u[k]) * amp[k, k]).real + 1
        return float(np.sum(w * (omega * e - np.log(omega))))

    omega = None
    for _ in range(iters):
        amp = np.einsum("jkn,jn->jk", H.conj(), v)  # amp[j, k] = h_jk^H v_j
        total = np.sum(np.abs(amp) ** 2, axis=0) + noise
        signal = amp[np.arange(K), np.arange(K)]
        u = signal / total
        if trace is not None and omega is not None:
            trace.append(cost(u, omega, v))
        omega = 1.0 / (1.0 - (np.conj(u) * signal).real)
        if trace is not None:
            trace.append(cost(u, omega, v))
        for k in range(K):
            A = sum(
                w[j] * omega[j] * abs(u[j]) ** 2 * np.outer(H[k, j], H[k, j].conj())
                for j in range(K)
            )
            b = w[k] * omega[k] * u[k] * H[k, k]

            def solve(mu, A=A, b=b):
                return np.linalg.solve(A + mu * np.eye(Nt), b)

            x = solve(0.0)
            if np.vdot(x, x).real > P[k]:
                low, high = 0.0, np.linalg.norm(b) / np.sqrt(P[k])
                for _ in range(80):
                    mid = 0.5 * (low + high)
                    low, high = (
                        (mid, high) if np.vdot(solve(mid), solve(mid)).real > P[k] else (low, mid)
                    )
                x = solve(high)
                x = x * np.sqrt(P[k] / np.vdot(x, x).real)
            v[k] = x
        if trace is not None:
            trace.append(cost(u, omega, v))
    return v


def _mrt(H, P):
    direct = H[np.arange(H.shape[0]), np.arange(H.shape[0])]
    return direct / np.linalg.norm(direct, axis=1, keepdims=True) * np.sqrt(P)[:, None]


@pytest.mark.parametrize("antennas", [1, 2, 3])
@pytest.mark.parametrize("noise_level", [0.1, 3.0])
def test_matches_independent_numpy_reference(antennas, noise_level):
    K = 5
    H = _dense(K, antennas, seed=antennas)
    rng = np.random.default_rng(7)
    P = rng.uniform(0.5, 2.0, K)
    noise = noise_level * rng.uniform(0.5, 1.5, K)
    w = rng.uniform(0.0, 1.0, K)
    want = _numpy_wmmse(H, P, noise, w, 15, _mrt(H, P))
    direct, edge_index, channel = _edges(H)
    got = wmmse_beamforming(
        direct,
        edge_index,
        channel,
        torch.tensor(P),
        torch.tensor(noise),
        torch.tensor(w),
        num_iters=15,
    )
    np.testing.assert_allclose(got.numpy(), want, atol=1e-8, rtol=0)


def test_weighted_mmse_objective_never_increases():
    H = _dense(6, 2, seed=11)
    P, noise, w = np.ones(6), np.full(6, 0.5), np.linspace(0.2, 1.0, 6)
    trace: list[float] = []
    _numpy_wmmse(H, P, noise, w, 15, _mrt(H, P), trace)
    assert np.all(np.diff(trace) <= 1e-9), np.diff(trace).max()


@pytest.mark.parametrize("antennas, weights", [(1, "ones"), (2, "uniform"), (4, "uniform")])
def test_weighted_sum_rate_non_decreasing_and_power_exact(antennas, weights):
    scenario = MISOD2D(10, num_antennas=antennas, link_weights=weights)
    ep = scenario.episode(2, seed=antennas, dtype=torch.float64)
    args = (ep.direct_channel, ep.edge_index, ep.edge_channel, ep.max_power, ep.noise_power)
    previous = None
    for iters in range(1, 9):
        beams = wmmse_beamforming(*args, ep.link_weight, num_iters=iters)
        total = miso.weighted_sum_rate(
            beams, ep.direct_channel, ep.edge_index, ep.edge_channel, 1.0, ep.link_weight
        )
        power = miso.beam_power(beams)
        assert bool((power <= ep.max_power[:, None] * (1 + 1e-12)).all())
        # a binding constraint holds exactly, not to the bisection's tolerance
        cap = ep.max_power[:, None].expand_as(power)
        exact = (power - cap).abs() <= 1e-12 * cap
        assert bool((exact | (power < cap * (1 - 1e-9))).all())
        if previous is not None:
            assert bool((total >= previous - 1e-9 * previous.abs()).all())
        previous = total


def test_one_antenna_equals_scalar_wmmse():
    ep = MISOD2D(12, num_antennas=1, link_weights="uniform").episode(2, seed=0, dtype=torch.float64)
    beams = wmmse_beamforming(
        ep.direct_channel,
        ep.edge_index,
        ep.edge_channel,
        ep.max_power,
        ep.noise_power,
        ep.link_weight,
        num_iters=40,
    )
    power = wmmse(
        ep.direct_gain,
        ep.edge_index,
        ep.edge_gain,
        ep.max_power,
        ep.noise_power,
        ep.link_weight,
        num_iters=40,
    )
    torch.testing.assert_close(miso.beam_power(beams), power, rtol=1e-10, atol=1e-12)
    policy = WMMSEBeamforming(num_iters=40)(ep)  # [K, T, 1]
    scalar = WMMSE("centralized", num_iters=40, budget="none")(ep)
    torch.testing.assert_close(miso.beam_power(policy), scalar, rtol=1e-10, atol=1e-12)


def test_batched_equals_one_by_one_and_tolerance_freezes():
    scenario = MISOD2D(6, num_antennas=2)
    episodes = [scenario.episode(2, seed=k, dtype=torch.float64) for k in range(2)]
    small = MISOD2D(4, num_antennas=2).episode(2, seed=9, dtype=torch.float64)
    batch = next(iter(DataLoader([*episodes, small], batch_size=3)))
    for baseline in (WMMSEBeamforming(num_iters=10), WMMSEBeamforming(num_iters=60, tol=1e-6)):
        together = baseline(batch)
        alone = torch.cat([baseline(ep) for ep in [*episodes, small]])
        torch.testing.assert_close(together, alone, rtol=1e-9, atol=1e-12)


def test_local_mode_uses_only_the_graph():
    scenario = MISOD2D(10, num_antennas=2, eta0=0.0)  # complete graph
    ep = scenario.episode(2, seed=1, dtype=torch.float64)
    local = WMMSEBeamforming("local", num_iters=7)(ep)
    central = WMMSEBeamforming("centralized", num_iters=7)(ep)
    torch.testing.assert_close(local, central)
    sparse = MISOD2D(10, num_antennas=2, eta0=300.0).episode(2, seed=1, dtype=torch.float64)
    cut = sparse.edge_channel * (sparse.edge_weight > 0)[..., None]
    want = wmmse_beamforming(
        sparse.direct_channel,
        sparse.edge_index,
        cut,
        sparse.max_power,
        sparse.noise_power,
        sparse.link_weight,
        num_iters=5,
    )
    torch.testing.assert_close(WMMSEBeamforming("local")(sparse), want)


def test_holds_between_decisions_and_random_init_is_seeded():
    ep = MISOD2D(6, num_antennas=2).episode(4, seed=2, dtype=torch.float64)
    held = WMMSEBeamforming(num_iters=5, update_every=2)(ep)
    torch.testing.assert_close(held[:, 1], held[:, 0])
    torch.testing.assert_close(held[:, 3], held[:, 2])
    baseline = WMMSEBeamforming(num_iters=3, init="random")
    a = baseline(ep, generator=torch.Generator().manual_seed(0))
    b = baseline(ep, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    assert "mode='centralized'" in repr(baseline)


def test_closed_form_eigendecomposition():
    gen = torch.Generator().manual_seed(0)
    X = torch.view_as_complex(torch.randn(50, 2, 3, 2, generator=gen, dtype=torch.float64))
    A = X @ X.mH
    A[0] = torch.eye(2, dtype=A.dtype) * 2  # a multiple of the identity
    A[1] = torch.diag(torch.tensor([1.0, 3.0], dtype=A.dtype))
    values, vectors = hermitian_eigh(A)
    torch.testing.assert_close(values, torch.linalg.eigvalsh(A))
    torch.testing.assert_close(vectors @ torch.diag_embed(values).to(A.dtype) @ vectors.mH, A)


def test_single_antenna_baselines_refuse_multi_antenna_episodes():
    ep = MISOD2D(6, num_antennas=2).episode(2, seed=0)
    with pytest.raises(ValueError, match="does not support N_t > 1"):
        WMMSE()(ep)


def test_bad_arguments():
    ep = MISOD2D(4, num_antennas=2).episode(1, seed=0, dtype=torch.float64)
    args = (ep.direct_channel, ep.edge_index, ep.edge_channel)
    with pytest.raises(ValueError, match="direct_channel must be a complex tensor"):
        wmmse_beamforming(ep.direct_gain, ep.edge_index, ep.edge_channel)
    with pytest.raises(ValueError, match="edge_channel must have shape"):
        wmmse_beamforming(ep.direct_channel, ep.edge_index, ep.edge_channel[:, :, :1])
    with pytest.raises(ValueError, match="max_power"):
        wmmse_beamforming(*args, max_power=0.0)
    with pytest.raises(ValueError, match="num_iters"):
        wmmse_beamforming(*args, num_iters=0)
    with pytest.raises(ValueError, match="init must be one of"):
        wmmse_beamforming(*args, init="zeros")
    with pytest.raises(ValueError, match="init must have shape"):
        wmmse_beamforming(*args, init=torch.ones(3, 2, dtype=torch.complex128))
    with pytest.raises(ValueError, match="tol must be None with mode='local'"):
        WMMSEBeamforming("local", tol=1e-3)
    with pytest.raises(ValueError, match="mode must be one of"):
        WMMSEBeamforming("distributed")
    from pyg_aggnn.wireless import D2D

    with pytest.raises(ValueError, match="complex channels"):
        WMMSEBeamforming()(D2D(4).episode(1, seed=0))


def test_float32_episodes_stay_finite_where_beams_null_interferers():
    # interferers that a beamformer nulls leave |h^H v|^2 far below |h|^2 |v|^2: a float32
    # sum of the quadratic form's terms would go negative (it did: NaN after 4 iterations)
    scenario = MISOD2D(50, num_antennas=2, link_weights="uniform")
    batch = next(iter(DataLoader([scenario.episode(1, seed=k) for k in range(8)], batch_size=8)))
    src, dst = batch.edge_index
    near = torch.linalg.vector_norm(batch.tx_pos[src] - batch.rx_pos[dst], dim=1) < 200
    channel = batch.edge_channel * (near | (src == dst))[:, None, None]
    beams = wmmse_beamforming(
        batch.direct_channel,
        batch.edge_index,
        channel,
        batch.max_power,
        batch.noise_power,
        batch.link_weight,
        num_iters=8,
        batch=batch.batch,
    )
    assert beams.dtype == torch.complex64
    assert bool(torch.isfinite(torch.view_as_real(beams)).all())
    assert bool((miso.beam_power(beams) <= batch.max_power[:, None] * (1 + 1e-6)).all())
