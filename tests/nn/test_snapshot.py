import torch

from pyg_aggnn.nn import SnapshotPolicy, snapshot
from pyg_aggnn.nn.snapshot import candidate_reverse, reverse_edges
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def test_reverse_edges_against_brute_force():
    edge_index = torch.tensor([[0, 1, 2, 1, 0, 2, 3], [1, 0, 0, 2, 0, 2, 1]])
    rev = reverse_edges(edge_index, 4)
    pairs = [tuple(e) for e in edge_index.t().tolist()]
    for e, (j, i) in enumerate(pairs):
        expected = pairs.index((i, j)) if (i, j) in pairs else -1
        assert int(rev[e]) == expected
    subset = torch.tensor([4, 0, 6])
    assert torch.equal(reverse_edges(edge_index, 4, subset), rev[subset])
    ordered = torch.argsort(edge_index[1] * 4 + edge_index[0])
    sorted_rev = reverse_edges(edge_index[:, ordered], 4)
    assert torch.equal(
        ordered[sorted_rev.clamp_min(0)][sorted_rev >= 0], rev[ordered][sorted_rev >= 0]
    )


def test_the_candidates_reverse_index_is_kept_per_episode_and_only_while_valid():
    import gc

    edge_index = torch.tensor([[0, 1, 2, 1, 0, 2, 3], [0, 0, 0, 1, 2, 2, 2]])
    first = candidate_reverse(edge_index, 4)
    assert torch.equal(first, reverse_edges(edge_index, 4))
    assert candidate_reverse(edge_index, 4) is first  # the next slot's decision
    assert candidate_reverse(edge_index, 5) is not first  # another size: looked up again
    edge_index[0, 6] = 1  # changed in place: looked up again
    again = candidate_reverse(edge_index, 4)
    assert again is not first and torch.equal(again, reverse_edges(edge_index, 4))
    with torch.inference_mode():
        frozen = edge_index.clone()
    assert torch.equal(candidate_reverse(frozen, 4), again)  # no version: not kept
    key = id(edge_index)
    assert key in snapshot._REVERSE and id(frozen) not in snapshot._REVERSE
    del edge_index
    gc.collect()
    assert key not in snapshot._REVERSE  # dropped with the episode


def test_stacked_slot_graphs_and_edge_features():
    episode = AdHoc(8, activation=RandomSubsets(4)).episode(3, seed=0, dtype=torch.float64)
    policy = SnapshotPolicy(
        features=["state"], edge_features=["gain", "reverse_gain", "shift"], self_loops=False
    )
    graph = policy.snapshot(episode, all_slots=True)
    assert graph.num_nodes == 24 and graph.x.shape == (24, 1)
    eta = float(episode.eta0)
    dst = graph.edge_index[1]
    assert bool((dst[1:] >= dst[:-1]).all())  # sorted by receiver
    for t in range(3):
        S, H = episode.dense_shift(t), episode.dense_gain(t)
        in_slot = (dst >= 8 * t) & (dst < 8 * (t + 1))
        src, rcv = graph.edge_index[:, in_slot] - 8 * t
        expected = [(j, i) for i in range(8) for j in range(8) if i != j and S[i, j] > 0]
        assert list(zip(src.tolist(), rcv.tolist())) == expected
        attr = graph.edge_attr[in_slot]
        torch.testing.assert_close(attr[:, 0], torch.log1p(S[rcv, src] / eta))
        torch.testing.assert_close(attr[:, 1], torch.log1p(H[src, rcv] / eta))
        torch.testing.assert_close(attr[:, 2], graph.edge_weight[in_slot])
        W = torch.log1p(S / eta)
        torch.testing.assert_close(attr[:, 2], (W / (1 + W.sum(1, keepdim=True)))[rcv, src])
    last = policy.snapshot(episode)
    assert last.num_nodes == 8
    assert torch.equal(last.edge_index, graph.edge_index[:, dst >= 16] - 16)


def test_an_inference_mode_episode_gets_the_same_slot_graph():
    policy = SnapshotPolicy(features=["state"], edge_features=["reverse_gain"], self_loops=False)
    episode = AdHoc(8).episode(3, seed=1)
    with torch.inference_mode():
        frozen = AdHoc(8).episode(3, seed=1)
        graph = policy.snapshot(frozen)
    assert frozen.edge_index.is_inference() and id(frozen.edge_index) not in snapshot._REVERSE
    expected = policy.snapshot(episode)
    assert torch.equal(graph.edge_index, expected.edge_index)
    assert torch.equal(graph.edge_attr, expected.edge_attr) and bool(graph.edge_attr.gt(0).any())
