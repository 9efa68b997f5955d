import math

import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data.augment import permute_links
from pyg_aggnn.nn import AggGNN, BeamformingPolicy, SelectionGNN, WCGCNBeamforming
from pyg_aggnn.nn.wcgcn_beamforming import beam_normalize, compress_channel
from pyg_aggnn.wireless import D2D, MISOD2D


def _episode(num_links=5, antennas=2, slots=3, seed=0, **kwargs):
    scenario = MISOD2D(num_links, num_antennas=antennas, link_weights="uniform", **kwargs)
    return scenario.episode(slots, seed=seed, dtype=torch.float64)


def reference_beams(model, episode, t):
    """R iterations of the shared layer, link by link, from the positions and channels."""
    m, nt = episode.num_nodes, model.num_antennas
    eta = float(episode.eta0) if float(episode.eta0) > 0 else 1.0
    H = torch.zeros(m, m, nt, dtype=torch.complex128)  # H[j, k]: Tx j -> Rx k
    src, dst = episode.edge_index
    H[src, dst] = episode.edge_channel[:, t]

    def c(h):
        norm = h.abs().square().sum().sqrt()
        scale = math.log1p(norm / eta) / norm if norm > 0 else 0.0
        return torch.view_as_real(h * scale).reshape(-1)

    u = torch.stack(
        [
            torch.cat([episode.link_weight[k : k + 1], episode.noise_power[k : k + 1], c(H[k, k])])
            for k in range(m)
        ]
    )
    state = torch.zeros(m, 2 * nt, dtype=torch.float64)
    conv = model.conv
    for _ in range(model.num_iterations):
        x = torch.cat([u, state], dim=1)
        rows = []
        for k in range(m):
            rx = episode.rx_pos[episode.receiver[k]]
            senders = [
                j
                for j in range(m)
                if j != k and float((episode.tx_pos[j] - rx).norm()) < model.max_distance_m
            ]
            if senders:
                edge = torch.stack([c(H[j, k]) for j in senders])
                pooled = conv.mlp1(torch.cat([x[senders], edge], dim=1)).max(dim=0).values
            else:
                pooled = torch.zeros(conv.message_channels[-1], dtype=torch.float64)
            out = conv.mlp2(torch.cat([x[k], pooled])[None])[0]
            rows.append(out / out.norm().clamp_min(1.0))
        state = torch.stack(rows)
    power = episode.max_power.sqrt()[:, None]
    return torch.view_as_complex((state * power).reshape(m, nt, 2))


def test_paper_sizes_and_repr():
    model = WCGCNBeamforming.paper(3, features=["direct_channel"])
    assert isinstance(model, BeamformingPolicy) and model.beamforming
    assert model.conv.mlp1.channel_list == [18, 64, 64]  # 6 N_t
    assert model.conv.mlp2.channel_list == [76, 32, 6]  # 64 + 4 N_t, 2 N_t
    full = WCGCNBeamforming(2)
    assert full.conv.mlp1.channel_list == [14, 64, 64]  # + weight and noise
    assert repr(full).startswith(
        "WCGCNBeamforming(num_antennas=2, features=['link_weight', 'noise_power', "
        "'direct_channel'], max_distance_m=300.0, iterations=3, conv=WCGCNConv("
    )


def test_equals_link_by_link_reference():
    torch.manual_seed(0)
    model = WCGCNBeamforming(2, max_distance_m=400.0, num_iterations=2).double()
    episode = _episode(6, field_side_m=600.0)
    edges = model.graph(episode).numel()
    assert 0 < edges < 30  # the distance graph is neither empty nor complete
    got = model.beamformers(episode, all_slots=True)
    for t in range(3):
        torch.testing.assert_close(got[:, t], reference_beams(model, episode, t))
    torch.testing.assert_close(model(episode), got[:, -1])


def test_power_bound_batching_and_gradient():
    torch.manual_seed(1)
    model = WCGCNBeamforming(2).double()
    episodes = [_episode(7, seed=1), _episode(4, seed=2)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    beams = model.beamformers(batch, all_slots=True)
    assert beams.shape == (11, 3, 2) and beams.dtype == torch.complex128
    power = beams.abs().square().sum(-1)
    assert bool((power <= batch.max_power[:, None] * (1 + 1e-12)).all())
    torch.testing.assert_close(beams[:7], model.beamformers(episodes[0], all_slots=True))
    batch.rates(beams).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_permutation_equivariance():
    torch.manual_seed(2)
    model = WCGCNBeamforming(3, max_distance_m=700.0).double()
    episode = _episode(6, antennas=3, seed=3)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    out = model.beamformers(episode, all_slots=True)
    out_perm = model.beamformers(permute_links(episode, perm), all_slots=True)
    torch.testing.assert_close(out_perm, out[perm])


def test_helpers():
    h = torch.tensor([[3 + 4j, 0j], [0j, 0j]], dtype=torch.complex128)  # norms 5, 0
    got = compress_channel(h, 1.0)
    torch.testing.assert_close(
        got[0], torch.tensor([3.0, 4.0, 0.0, 0.0], dtype=torch.float64) * math.log(6) / 5
    )
    torch.testing.assert_close(got[1], torch.zeros(4, dtype=torch.float64))
    x = torch.tensor([[0.3, 0.4], [3.0, 4.0]])
    torch.testing.assert_close(beam_normalize(x), torch.tensor([[0.3, 0.4], [0.6, 0.8]]))


def test_clear_errors():
    model = WCGCNBeamforming(2)
    with pytest.raises(ValueError, match="outputs beamformers, not power logits"):
        model.logits(_episode())
    with pytest.raises(ValueError, match="must carry edge_channel"):
        model(D2D(4).episode(2, seed=0))
    with pytest.raises(ValueError, match="N_t = 2 antennas"):
        model(_episode(antennas=3))
    with pytest.raises(ValueError, match="features must be one of"):
        WCGCNBeamforming(features=["direct_gain"])
    with pytest.raises(ValueError, match="max_distance_m must be > 0"):
        WCGCNBeamforming(max_distance_m=0.0)
    # the single-antenna policies refuse N_t > 1 and keep working on N_t = 1
    for policy in (AggGNN(K=3), SelectionGNN()):
        with pytest.raises(ValueError, match="does not support N_t > 1"):
            policy(_episode())
        assert policy(MISOD2D(5, num_antennas=1).episode(3, seed=0)).shape == (5,)
