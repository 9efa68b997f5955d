import pytest
import torch
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GAT, GCN

from pyg_aggnn.nn import GenericGNNPolicy
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def test_gcn_sees_the_slot_graph_with_normalised_weights():
    torch.manual_seed(0)
    episode = AdHoc(10, activation=RandomSubsets(6)).episode(4, seed=0, dtype=torch.float64)
    gcn = GCN(2, 8, num_layers=2, out_channels=1).double()
    policy = GenericGNNPolicy(gcn)
    graph = policy.snapshot(episode)
    expected = gcn(graph.x, graph.edge_index, edge_weight=graph.edge_weight)[:, 0]
    torch.testing.assert_close(policy.logits(episode), expected)
    # the slot's graph: exactly the edges with a positive shift weight at the last slot
    keep = episode.edge_weight[:, -1] > 0
    assert torch.equal(graph.edge_index, episode.edge_index[:, keep])


def test_gat_with_edge_attributes_batched_and_permuted(permute):
    torch.manual_seed(1)
    policy = GenericGNNPolicy(GAT(2, 8, num_layers=2, out_channels=1, edge_dim=1), "edge_attr")
    episodes = [AdHoc(m).episode(3, seed=m) for m in (6, 9)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    out = policy.logits(batch, all_slots=True)
    assert out.shape == (15, 3)
    torch.testing.assert_close(out, torch.cat([policy.logits(e, all_slots=True) for e in episodes]))
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(0))
    base = policy.logits(episodes[1])
    torch.testing.assert_close(policy.logits(permute(episodes[1], perm)), base[perm])


def test_wrong_model_output_and_arguments():
    with pytest.raises(ValueError, match="one logit per node"):
        GenericGNNPolicy(GCN(2, 8, num_layers=1, out_channels=3)).logits(AdHoc(5).episode(2))
    with pytest.raises(ValueError, match="edge_input must be one of"):
        GenericGNNPolicy(GCN(2, 8, 1, 1), edge_input="weights")
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        GenericGNNPolicy("GCN")
    assert repr(GenericGNNPolicy(GCN(2, 8, 1, 1))) == (
        "GenericGNNPolicy(GCN(2, 1, num_layers=1), edge_input='edge_weight')"
    )
