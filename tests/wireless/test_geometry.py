import torch

from pyg_aggnn.wireless.geometry import candidate_pairs, link_edges, locality_order


def _brute_pairs(tx_pos, rx_pos, max_distance):
    d = torch.cdist(tx_pos, rx_pos)  # [m, n]
    tx, rx = torch.nonzero(d <= max_distance, as_tuple=True)
    return set(zip(tx.tolist(), rx.tolist()))


def test_cell_list_equals_brute_force():
    gen = torch.Generator().manual_seed(0)
    for m, n, side, cut in [(200, 200, 50.0, 7.0), (300, 40, 100.0, 20.0), (5, 3, 10.0, 100.0)]:
        tx_pos = torch.rand(m, 2, generator=gen, dtype=torch.float64) * side - side / 3
        rx_pos = torch.rand(n, 2, generator=gen, dtype=torch.float64) * side
        tx, rx = candidate_pairs(tx_pos, rx_pos, cut)
        got = list(zip(tx.tolist(), rx.tolist()))
        assert len(got) == len(set(got))  # no duplicates
        assert set(got) == _brute_pairs(tx_pos, rx_pos, cut)


def test_dense_pairs_when_no_cutoff():
    tx, rx = candidate_pairs(torch.zeros(4, 2), torch.zeros(3, 2), None)
    assert set(zip(tx.tolist(), rx.tolist())) == {(j, b) for j in range(4) for b in range(3)}


def test_link_edges_shared_receivers():
    # links 0,1,2 -> receiver 0; links 3,4 -> receiver 1
    receiver = torch.tensor([0, 0, 0, 1, 1])
    tx = torch.tensor([3])  # transmitter 3 heard at receiver 0
    rx = torch.tensor([0])
    edge_index, edge_pair, pair_tx, pair_rx = link_edges(tx, rx, receiver)
    edges = set(zip(edge_index[0].tolist(), edge_index[1].tolist()))
    expected = {(i, i) for i in range(5)} | {(3, 0), (3, 1), (3, 2)}
    # direct pairs (i, r(i)) reach every link of the same cell too
    expected |= {(j, i) for j in range(3) for i in range(3)} | {
        (j, i) for j in (3, 4) for i in (3, 4)
    }
    assert edges == expected
    assert len(edges) == edge_index.size(1)
    # edges are sorted by victim, then sender
    key = edge_index[1] * 5 + edge_index[0]
    assert bool((key[1:] > key[:-1]).all())
    # every edge maps to the physical pair (sender, receiver of the victim)
    assert torch.equal(pair_tx[edge_pair], edge_index[0])
    assert torch.equal(pair_rx[edge_pair], receiver[edge_index[1]])


def test_locality_order_lists_points_band_by_band():
    points = torch.rand(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    order = locality_order(points, 0.1)
    assert torch.equal(torch.sort(order).values, torch.arange(500))  # a permutation
    x, y = points[order, 0], points[order, 1]
    band = torch.floor((y - points[:, 1].min()) / 0.1)
    assert bool((band[1:] >= band[:-1]).all())  # bands in increasing order
    same = band[1:] == band[:-1]
    assert bool((x[1:][same] >= x[:-1][same]).all())  # by x within a band


def test_large_adhoc_networks_number_their_links_by_place():
    from pyg_aggnn.wireless import AdHoc

    scenario = AdHoc(3000, reference_links=25)
    layout = scenario.sample_layout(torch.Generator().manual_seed(1))
    src, dst = layout.edge_index
    # interfering links sit a few bands apart in the numbering; in a random order the
    # typical distance between two indices is m / 3
    assert (src - dst).abs().double().median() < 3000 / 20
    strip = torch.floor(
        (layout.rx_pos[:, 1] - layout.rx_pos[:, 1].min()) / scenario.cutoff_distance()
    )
    assert bool((strip[1:] >= strip[:-1]).all())
    # the positions are still uniform on the square: the order changes no distribution
    half = scenario.half_width
    assert layout.tx_pos.abs().max() <= half
    assert layout.tx_pos.mean(dim=0).abs().max() < 0.05 * half
