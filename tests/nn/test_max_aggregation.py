import pytest
import torch
from torch_geometric.utils import scatter

from pyg_aggnn.nn.max_aggregation import complete_degree, max_aggregate


def _complete(num_nodes: int, degree: int) -> torch.Tensor:
    """Receivers of a receiver-sorted graph where each node has ``degree`` edges."""
    return torch.arange(num_nodes).repeat_interleave(degree)


def _loop_reference(src, index, num_nodes):
    """The maximum receiver by receiver, zero for a receiver without edges."""
    rows = []
    for i in range(num_nodes):
        incoming = src[index == i]
        rows.append(incoming.max(dim=0).values if len(incoming) else src.new_zeros(src.size(1)))
    return torch.stack(rows)


def _pyg(src, index, num_nodes):
    """PyG's max aggregation on the CPU (torch's scatter_reduce, amax)."""
    return scatter(src, index, 0, dim_size=num_nodes, reduce="max")


@pytest.mark.parametrize("graph", ["complete", "sorted", "unsorted"])
def test_values_and_gradients_are_pygs_bit_for_bit(graph):
    gen = torch.Generator().manual_seed(3)
    num_nodes = 7
    index = {
        "complete": _complete(num_nodes, 4),
        "sorted": torch.tensor([0, 0, 1, 3, 3, 3, 5, 6, 6]),  # nodes 2 and 4 hear nobody
        "unsorted": torch.tensor([6, 0, 3, 1, 3, 0, 5, 3, 6]),
    }[graph]
    values = torch.randn(index.numel(), 5, generator=gen, dtype=torch.float64)
    weights = torch.randn(num_nodes, 5, generator=gen, dtype=torch.float64)
    results = []
    for aggregate in (max_aggregate, _pyg):
        src = values.clone().requires_grad_()
        out = aggregate(src, index, num_nodes)
        (out * weights).sum().backward()
        results.append((out.detach(), src.grad))
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])
    torch.testing.assert_close(results[0][0], _loop_reference(values, index, num_nodes))
    # the gradient goes to the edge that attains each maximum, and nowhere else
    winners = values == results[0][0][index]
    assert torch.equal(results[0][1] != 0, winners)


@pytest.mark.parametrize("graph", ["complete", "sorted"])
def test_ties_split_the_gradient_as_torch_does(graph):
    index = _complete(3, 2) if graph == "complete" else torch.tensor([0, 0, 1, 2, 2])
    src = torch.tensor(
        [[1.0, 0.0], [1.0, -2.0], [3.0, 3.0], [0.5, 4.0], [0.5, 4.0], [0.2, 5.0]][: index.numel()],
        dtype=torch.float64,
    )
    grad = torch.tensor([[2.0, 3.0], [5.0, 7.0], [11.0, 13.0]], dtype=torch.float64)
    results = []
    for aggregate in (max_aggregate, _pyg):
        leaf = src.clone().requires_grad_()
        aggregate(leaf, index, 3).backward(grad)
        results.append(leaf.grad)
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)
    # a tie of two edges: half the gradient each, summing to the receiver's
    torch.testing.assert_close(results[0][0, 0], torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(results[0][:2, 0].sum(), grad[0, 0])


def test_without_autograd_and_the_complete_check():
    src = torch.randn(12, 3)
    assert torch.equal(max_aggregate(src, _complete(4, 3), 4), _pyg(src, _complete(4, 3), 4))
    assert complete_degree(_complete(4, 3), 4) == 3
    assert complete_degree(torch.tensor([0, 0, 1, 1, 2]), 3) is None  # uneven
    assert complete_degree(torch.tensor([1, 0, 0, 1]), 2) is None  # unsorted
    assert complete_degree(torch.tensor([0, 0, 2, 2]), 3) is None  # node 1 hears nobody
    assert complete_degree(torch.tensor([0, 0, 1, 1]), 3) is None  # 4 edges, 3 nodes
    assert complete_degree(torch.zeros(0, dtype=torch.long), 3) is None
    with pytest.raises(ValueError, match=r"src of shape \[E, C\] and index of shape \[E\]"):
        max_aggregate(torch.randn(4), torch.zeros(4, dtype=torch.long), 1)
