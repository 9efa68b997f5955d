import numpy as np
import pytest
import torch

from pyg_aggnn.wireless import miso, physics


def _network(num_links=4, antennas=2, slots=3, seed=0):
    """A dense MISO network ``H[j, k, t]`` (Tx ``j`` -> Rx ``k``) as an edge list."""
    gen = torch.Generator().manual_seed(seed)
    H = torch.randn(num_links, num_links, slots, antennas, 2, generator=gen, dtype=torch.float64)
    H = torch.view_as_complex(H)  # [j, k, T, N_t]
    src, dst = torch.meshgrid(torch.arange(num_links), torch.arange(num_links), indexing="ij")
    edge_index = torch.stack([src.reshape(-1), dst.reshape(-1)])
    edge_channel = H.reshape(num_links * num_links, slots, antennas)
    direct = H[torch.arange(num_links), torch.arange(num_links)]  # [K, T, N_t]
    return H, edge_index, edge_channel, direct


def _numpy_sinr(H, V, noise):
    """Eq. (4) with explicit loops: H[j, k, t, n], V[k, t, n] -> SINR[k, t]."""
    K, _, T, _ = H.shape
    out = np.zeros((K, T))
    for t in range(T):
        for k in range(K):
            gains = [abs(np.vdot(H[j, k, t], V[j, t])) ** 2 for j in range(K)]
            out[k, t] = gains[k] / (sum(gains) - gains[k] + noise[k])
    return out


def test_sinr_and_rate_match_explicit_loops():
    H, edge_index, edge_channel, direct = _network()
    gen = torch.Generator().manual_seed(1)
    beams = torch.view_as_complex(torch.randn(4, 3, 2, 2, generator=gen, dtype=torch.float64))
    noise = torch.tensor([0.5, 1.0, 2.0, 0.1], dtype=torch.float64)
    want = _numpy_sinr(H.numpy(), beams.numpy(), noise.numpy())
    got = miso.sinr(beams, direct, edge_index, edge_channel, noise)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(
        miso.rate(beams, direct, edge_index, edge_channel, noise).numpy(), np.log1p(want)
    )
    weight = torch.tensor([1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    total = miso.weighted_sum_rate(beams, direct, edge_index, edge_channel, noise, weight)
    np.testing.assert_allclose(total[0].numpy(), (weight.numpy()[:, None] * np.log1p(want)).sum(0))
    np.testing.assert_allclose(
        miso.beam_power(beams).numpy(), (np.abs(beams.numpy()) ** 2).sum(-1), rtol=1e-14
    )


def test_one_antenna_is_the_scalar_physics():
    H, edge_index, edge_channel, direct = _network(antennas=1)
    gen = torch.Generator().manual_seed(2)
    beams = torch.view_as_complex(torch.randn(4, 3, 1, 2, generator=gen, dtype=torch.float64))
    power = miso.beam_power(beams)
    scalar = physics.sinr(power, direct.abs()[..., 0], edge_index, edge_channel.abs()[..., 0])
    torch.testing.assert_close(miso.sinr(beams, direct, edge_index, edge_channel), scalar)


def test_samples_broadcast_against_slot_channels_and_gradient():
    _, edge_index, edge_channel, direct = _network(slots=3)
    gen = torch.Generator().manual_seed(3)
    beams = torch.view_as_complex(torch.randn(4, 3, 5, 2, 2, generator=gen, dtype=torch.float64))
    beams.requires_grad_(True)
    rates = miso.rate(beams, direct, edge_index, edge_channel)  # [K, T, samples]
    assert rates.shape == (4, 3, 5)
    for s in range(5):
        one = miso.rate(beams[:, :, s].detach(), direct, edge_index, edge_channel)
        torch.testing.assert_close(rates[:, :, s].detach(), one)
    rates.sum().backward()
    assert beams.grad is not None and bool(torch.isfinite(torch.view_as_real(beams.grad)).all())
    # smooth at a silent transmitter: a zero beamformer has a finite gradient
    zero = torch.zeros(4, 3, 2, dtype=torch.complex128, requires_grad=True)
    miso.rate(zero, direct, edge_index, edge_channel).sum().backward()
    assert bool(torch.isfinite(torch.view_as_real(zero.grad)).all())


def test_received_power_and_num_antennas():
    _, edge_index, edge_channel, direct = _network()
    beams = torch.ones(4, 3, 2, dtype=torch.complex128)
    got = miso.received_power(beams, edge_index, edge_channel)
    np.testing.assert_allclose(got.numpy(), np.abs(edge_channel.numpy().sum(-1)) ** 2)
    assert miso.num_antennas(object()) == 1


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda b, d, i, c: (b.real, d, i, c), "beams must be a complex tensor"),
        (lambda b, d, i, c: (b, d[..., :1], i, c), "direct_channel must have N_t = 2"),
        (lambda b, d, i, c: (b, d, i, c[:3]), "edge_channel must have shape"),
        (lambda b, d, i, c: (b, d, i + 10, c), "edge_index must hold values"),
        (lambda b, d, i, c: (b * float("nan"), d, i, c), "beams must hold finite"),
        (lambda b, d, i, c: (b, d * 1e80, i, c), "direct_channel must hold finite values in"),
    ],
)
def test_bad_inputs_name_the_argument(change, match):
    _, edge_index, edge_channel, direct = _network()
    beams = torch.ones(4, 3, 2, dtype=torch.complex128)
    args = change(beams, direct, edge_index, edge_channel)
    with pytest.raises(ValueError, match=match):
        miso.sinr(*args)
    with pytest.raises(ValueError, match="noise_power"):
        miso.rate(beams, direct, edge_index, edge_channel, noise_power=0.0)
