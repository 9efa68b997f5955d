import pytest
import torch
from torch_geometric.nn import MLP

from pyg_aggnn.nn import WCGCNConv


def loop_reference(conv, x, edge_index, edge_attr):
    """x_i' = MLP2([x_i, max_j MLP1([x_j, e_ji])]) node by node (zero without neighbours)."""
    out = []
    for i in range(x.size(0)):
        incoming = (edge_index[1] == i).nonzero().flatten().tolist()
        if incoming:
            messages = [
                conv.mlp1(torch.cat([x[edge_index[0, e]], edge_attr[e]])[None])[0] for e in incoming
            ]
            pooled = torch.stack(messages).max(dim=0).values
        else:
            pooled = torch.zeros(conv.message_channels[-1], dtype=x.dtype)
        out.append(conv.mlp2(torch.cat([x[i], pooled])[None])[0])
    return torch.stack(out)


def test_repr_and_paper_sizes():
    conv = WCGCNConv(3, 2)
    assert repr(conv) == "WCGCNConv(3, 1, edge_channels=2, mlp1=[5, 32, 32], mlp2=[35, 16, 1])"
    assert isinstance(conv.mlp1, MLP) and isinstance(conv.mlp2, MLP)
    assert conv.mlp1.channel_list == [5, 32, 32] and conv.mlp2.channel_list == [35, 16, 1]
    assert conv.aggr == "max"
    with pytest.raises(ValueError, match="message_channels and update_channels must each list"):
        WCGCNConv(3, 2, message_channels=[])


def test_equals_node_by_node_reference_with_an_isolated_node():
    torch.manual_seed(0)
    conv = WCGCNConv(3, 2, message_channels=[8, 6], update_channels=[5, 2]).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    edge_index = torch.tensor([[1, 2, 0, 3, 1, 0], [0, 0, 1, 1, 3, 3]])  # node 2 and 4 hear nobody
    edge_attr = torch.randn(6, 2, dtype=torch.float64)
    out = conv(x, edge_index, edge_attr)
    assert out.shape == (5, 2)
    torch.testing.assert_close(out, loop_reference(conv, x, edge_index, edge_attr))


def test_messages_end_with_a_relu_and_the_update_with_a_plain_layer():
    torch.manual_seed(1)
    conv = WCGCNConv(2, 1, message_channels=[4], update_channels=[3]).double()
    x = torch.randn(3, 2, dtype=torch.float64)
    edge_index = torch.tensor([[1, 2], [0, 0]])
    edge_attr = torch.randn(2, 1, dtype=torch.float64)
    messages = conv.mlp1(torch.cat([x[edge_index[0]], edge_attr], dim=1))
    assert bool((messages >= 0).all())
    assert conv.mlp2.plain_last
    assert not conv.mlp1.plain_last


def _graph(num_nodes=40, num_edges=300, seed=0, sort=True):
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=g)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    edge_index = edge_index[:, edge_index[1] < num_nodes - 3]  # the last nodes hear nobody
    if sort:
        edge_index = edge_index[:, torch.argsort(edge_index[1] * num_nodes + edge_index[0])]
    return edge_index


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("edge_channels", [2, 0])
def test_fused_blocks_equal_propagate_and_the_node_by_node_reference(sort, edge_channels):
    torch.manual_seed(2)
    conv = WCGCNConv(3, edge_channels, message_channels=[8, 6], update_channels=[5, 2]).double()
    edge_index = _graph(sort=sort)
    x = torch.randn(40, 3, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.size(1), edge_channels, dtype=torch.float64)
    reference = loop_reference(conv, x, edge_index, edge_attr)
    conv.fused = False
    torch.testing.assert_close(conv(x, edge_index, edge_attr), reference)
    conv.fused = True
    for block in (1, 7, 64, 1 << 13):  # receivers split across blocks, and one block
        conv.block_edges = block
        with torch.no_grad():
            torch.testing.assert_close(conv(x, edge_index, edge_attr), reference)
    torch.testing.assert_close(conv(x, edge_index, edge_attr), reference)  # with autograd


def test_with_autograd_the_layer_is_propagate_bit_for_bit():
    """Training keeps the numbers of PyG's propagate; only inference takes the blocks."""
    torch.manual_seed(3)
    conv = WCGCNConv(3, 2, message_channels=[8, 6], update_channels=[5, 2])
    edge_index = _graph()
    x = torch.randn(40, 3)
    edge_attr = torch.randn(edge_index.size(1), 2)
    conv.block_edges = 16
    calls, propagate = [], conv.propagate
    conv.propagate = lambda *args, **kwargs: calls.append(1) or propagate(*args, **kwargs)
    trained = conv(x, edge_index, edge_attr)
    assert trained.requires_grad and len(calls) == 1
    with torch.no_grad():
        blocked = conv(x, edge_index, edge_attr)
        assert len(calls) == 1  # the blocks, not propagate
        conv.fused = False
        propagated = conv(x, edge_index, edge_attr)
    assert torch.equal(trained.detach(), propagated)
    torch.testing.assert_close(blocked, propagated)


def _complete_graphs(num_graphs=3, m=5):
    """Receiver-sorted complete graphs without self loops: every node hears m - 1."""
    src = torch.arange(m).repeat(m)
    dst = torch.arange(m).repeat_interleave(m)
    keep = src != dst
    offset = (torch.arange(num_graphs) * m).repeat_interleave(int(keep.sum()))
    return torch.stack([src[keep].repeat(num_graphs), dst[keep].repeat(num_graphs)]) + offset


@pytest.mark.parametrize("graph", ["complete", "sorted", "unsorted"])
def test_fused_training_equals_propagate_in_value_and_gradient(graph):
    torch.manual_seed(4)
    edge_index = {
        "complete": _complete_graphs(),
        "sorted": _graph(num_nodes=15, num_edges=90),  # uneven degrees, nodes heard by none
        "unsorted": _graph(num_nodes=15, num_edges=90, sort=False),
    }[graph]
    num_nodes = 15
    conv = WCGCNConv(3, 2, message_channels=[8, 6], update_channels=[5, 2]).double()
    x = torch.randn(num_nodes, 3, dtype=torch.float64, requires_grad=True)
    edge_attr = torch.randn(edge_index.size(1), 2, dtype=torch.float64, requires_grad=True)
    results = {}
    for fused_training in (False, True):
        conv.fused_training = fused_training
        conv.zero_grad()
        x.grad = edge_attr.grad = None
        out = conv(x, edge_index, edge_attr)
        (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
        grads = [x.grad.clone(), edge_attr.grad.clone()]
        grads += [p.grad.clone() for p in conv.parameters()]
        results[fused_training] = (out.detach(), grads)
    torch.testing.assert_close(results[True][0], results[False][0])
    torch.testing.assert_close(results[True][0], loop_reference(conv, x, edge_index, edge_attr))
    for ours, theirs in zip(results[True][1], results[False][1]):
        torch.testing.assert_close(ours, theirs)
