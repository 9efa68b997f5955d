import math

import numpy as np
import pytest
import torch

from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.nn import shift


def _dense_reference(gain: np.ndarray, eta: float, compress: str, normalization: str):
    """Row-normalised dense shift operator in NumPy, gain[i, j] = Tx j -> Rx i."""
    weight = np.log1p(gain / eta) if compress == "log" else gain.copy()
    row = weight.sum(axis=1, keepdims=True)
    if normalization == "none":
        return weight
    if normalization == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(row > 0, weight / row, 0.0)
    return weight / (1.0 + row)


def test_compress_gain_matches_numpy_and_keeps_zero():
    gain = torch.tensor([[0.0, 1e-3], [5e-3, 1e6]], dtype=torch.float64)
    out = shift.compress_gain(gain, 5e-3)
    assert torch.allclose(out, torch.from_numpy(np.log1p(gain.numpy() / 5e-3)))
    assert out[0, 0] == 0
    assert math.isclose(
        float(shift.compress_gain(torch.tensor(5e-3), 5e-3)), math.log(2), rel_tol=1e-6
    )
    assert torch.equal(shift.compress_gain(gain, 2.0, "none"), gain)


def test_compress_gain_per_edge_reference_broadcasts_over_slots():
    gain = torch.rand(4, 3, dtype=torch.float64)
    reference = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    expected = torch.log1p(gain / reference[:, None])
    assert torch.allclose(shift.compress_gain(gain, reference), expected)
    out = torch.empty(3, 4, dtype=torch.float64)
    shift.compress_gain(gain.t(), reference.reshape(1, -1), out=out)
    assert torch.allclose(out, expected.t())


def test_receiver_scale_modes():
    row = torch.tensor([0.0, 1.0, 3.0])
    assert torch.equal(shift.receiver_scale(row, "none"), torch.ones(3))
    assert torch.allclose(shift.receiver_scale(row, "mean"), torch.tensor([0.0, 1.0, 1 / 3]))
    assert torch.allclose(shift.receiver_scale(row, "damped"), torch.tensor([1.0, 0.5, 0.25]))


def test_gain_reference_falls_back_to_one_and_honours_gain_scale():
    assert shift.gain_reference(0.0) == 1.0
    assert shift.gain_reference(0.005) == 0.005
    assert shift.gain_reference(0.005, gain_scale=2.0) == 2.0
    ref = shift.gain_reference(torch.tensor([0.0, 0.5]))
    assert torch.equal(ref, torch.tensor([1.0, 0.5]))


@pytest.mark.parametrize("compress", ["none", "log"])
@pytest.mark.parametrize("normalization", ["none", "mean", "damped"])
def test_normalized_shift_equals_dense_reference(compress, normalization):
    gen = torch.Generator().manual_seed(0)
    gain = torch.rand(5, 5, 3, generator=gen, dtype=torch.float64) * 10
    gain[1] = 0.0  # a receiver that hears nobody
    episode = WirelessEpisode.from_dense(gain, eta0=2.0)
    weight = shift.normalized_shift(
        episode.edge_index, episode.edge_weight, 5, 2.0, compress, normalization
    )
    for t in range(3):
        dense = torch.zeros(5, 5, dtype=torch.float64)
        dense[episode.edge_index[1], episode.edge_index[0]] = weight[:, t]
        expected = _dense_reference(episode.dense_shift(t).numpy(), 2.0, compress, normalization)
        np.testing.assert_allclose(dense.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_damped_rows_sum_below_one_for_extreme_gains():
    gen = torch.Generator().manual_seed(1)
    exponent = torch.empty(6, 6, 2, dtype=torch.float64).uniform_(-3, 7, generator=gen)
    gain = 10.0**exponent  # amplitudes 1e-3 .. 1e7
    episode = WirelessEpisode.from_dense(gain, eta0=1e-3)
    weight = shift.normalized_shift(episode.edge_index, episode.edge_weight, 6, 1e-3)
    rows = torch.zeros(6, 2, dtype=torch.float64).index_add_(0, episode.edge_index[1], weight)
    assert bool((rows < 1).all()) and bool((rows > 0.4).all())


def test_csr_layout_sorted_and_unsorted():
    edge_index = torch.tensor([[0, 2, 1, 0, 2], [0, 0, 1, 2, 2]])
    crow, col, perm = shift.csr_layout(edge_index, 3)
    assert perm is None
    assert crow.tolist() == [0, 2, 3, 5] and col.tolist() == [0, 2, 1, 0, 2]
    shuffled = edge_index[:, [3, 1, 4, 0, 2]]
    crow2, col2, perm2 = shift.csr_layout(shuffled, 3)
    assert torch.equal(crow2, crow)
    assert torch.equal(shuffled[1, perm2], edge_index[1])
    values = torch.arange(5, dtype=torch.float64)[[3, 1, 4, 0, 2]]
    adj = shift.csr_adjacency(crow2, col2, values[perm2], 3).to_dense()
    dense = torch.zeros(3, 3, dtype=torch.float64)
    dense[shuffled[1], shuffled[0]] = values
    assert torch.equal(adj, dense)


def test_check_modes_names_argument_and_choices():
    with pytest.raises(ValueError, match="compress must be one of"):
        shift.check_modes("sqrt", "damped")
    with pytest.raises(ValueError, match=r"normalization must be one of .*'softmax'"):
        shift.check_modes("log", "softmax")


def test_edge_reference_is_a_scalar_when_every_network_shares_it():
    from torch_geometric.loader import DataLoader

    from pyg_aggnn.wireless import AdHoc

    same = [AdHoc(6).episode(2, seed=s) for s in range(3)]
    batch = next(iter(DataLoader(same, batch_size=3)))
    scalar = shift.edge_reference(batch)
    assert scalar.dim() == 0 and float(scalar) == float(same[0].eta0)
    assert float(shift.edge_reference(batch, gain_scale=2.5)) == 2.5
    mixed = [AdHoc(6).episode(2, seed=0), AdHoc(6, eta0=0.02).episode(2, seed=1)]
    batch = next(iter(DataLoader(mixed, batch_size=2)))
    per_edge = shift.edge_reference(batch)
    expected = shift.node_reference(batch)[batch.edge_index[1]]
    assert per_edge.shape == (batch.num_edges,)
    torch.testing.assert_close(per_edge, expected)
