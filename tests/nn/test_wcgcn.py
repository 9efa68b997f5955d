import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.nn import WCGCN, PowerPolicy
from pyg_aggnn.wireless import D2D, AdHoc, GaussianIC, RandomSubsets


def reference_logits(model, episode, t):
    """R iterations of the shared layer on the dense slot-t graph, node by node."""
    eta = float(episode.eta0) if float(episode.eta0) > 0 else 1.0
    S = episode.dense_shift(t).double()
    H = episode.dense_gain(t).double()
    m = S.size(0)
    static = torch.stack(
        [torch.log1p(episode.direct_gain[:, t].double() / eta), episode.link_weight.double()],
        dim=1,
    )
    power = torch.full((m, 1), model.initial_power, dtype=torch.float64)
    conv = model.conv
    for _ in range(model.num_iterations):
        x = torch.cat([static, power], dim=1)
        rows = []
        for i in range(m):
            senders = [j for j in range(m) if j != i and S[i, j] > 0]
            if senders:
                edge = torch.tensor(
                    [[torch.log1p(H[i, j] / eta), torch.log1p(H[j, i] / eta)] for j in senders],
                    dtype=torch.float64,
                )
                messages = conv.mlp1(torch.cat([x[senders], edge], dim=1))
                pooled = messages.max(dim=0).values
            else:
                pooled = torch.zeros(conv.message_channels[-1], dtype=torch.float64)
            rows.append(conv.mlp2(torch.cat([x[i], pooled])[None])[0])
        logit = torch.stack(rows)
        power = torch.sigmoid(logit)
    return logit[:, 0]


def test_paper_sizes_and_repr():
    model = WCGCN.paper()
    assert isinstance(model, PowerPolicy)
    assert model.conv.mlp1.channel_list == [5, 32, 32]  # [u_j (2), q_j, e_ji (2)]
    assert model.conv.mlp2.channel_list == [35, 16, 1]
    assert model.num_iterations == 3
    assert repr(model).startswith(
        "WCGCN(features=['direct_gain', 'link_weight'], edge_features=['gain', 'reverse_gain'], "
        "iterations=3, conv=WCGCNConv(3, 1, edge_channels=2"
    )
    with pytest.raises(ValueError, match="edge_features must name at least one"):
        WCGCN(edge_features=[])
    with pytest.raises(ValueError, match=r"initial_power must be in \[0.0, 1.0\], got 2"):
        WCGCN(initial_power=2)


@pytest.mark.parametrize(
    "make",
    [lambda: AdHoc(9, activation=RandomSubsets(5), link_weights="uniform"), lambda: GaussianIC(6)],
)
def test_equals_dense_node_by_node_reference(make):
    torch.manual_seed(0)
    episode = make().episode(3, seed=3, dtype=torch.float64)
    model = WCGCN().double()
    out = model.logits(episode, all_slots=True)
    for t in range(3):
        torch.testing.assert_close(out[:, t], reference_logits(model, episode, t))


def test_batched_unbatched_and_permutation(permute):
    episodes = [D2D(m).episode(3, seed=m) for m in (8, 11)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    model = WCGCN()
    torch.testing.assert_close(model.logits(batch), torch.cat([model.logits(e) for e in episodes]))
    perm = torch.randperm(11, generator=torch.Generator().manual_seed(1))
    out = model.logits(episodes[1], all_slots=True)
    torch.testing.assert_close(model.logits(permute(episodes[1], perm), all_slots=True), out[perm])


@pytest.mark.slow
def test_torch_compile_equals_eager():
    episode = AdHoc(15).episode(3, seed=0)
    model = WCGCN()
    compiled = torch.compile(model.logits)
    torch.testing.assert_close(compiled(episode), model.logits(episode))
