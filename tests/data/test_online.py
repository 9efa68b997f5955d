import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data.online import OnlineEpisodes, simulate
from pyg_aggnn.wireless import AdHoc


def _ids(stream, batch_size, num_workers=0, batches=None):
    loader = DataLoader(stream, batch_size=batch_size, num_workers=num_workers)
    return [batch.sample_id.tolist() for batch in loader][:batches]


def test_ranks_split_the_global_batch_like_one_process():
    scenario = [AdHoc(num_links=4)]
    single = _ids(OnlineEpisodes(scenario, 3, 6, seed=1, batches=3), 6)
    ranks = [
        _ids(OnlineEpisodes(scenario, 3, 3, seed=1, batches=3, rank=r, world_size=2), 3)
        for r in range(2)
    ]
    for step in range(3):
        assert single[step] == ranks[0][step] + ranks[1][step]
    assert len({i for batch in single for i in batch}) == 18


def test_workers_and_restarts_continue_the_same_stream():
    scenario = [AdHoc(num_links=4)]
    stream = OnlineEpisodes(scenario, 3, 2, seed=1, batches=4)
    plain = _ids(stream, 2)
    assert _ids(stream, 2, num_workers=2) == plain
    stream.start = 2  # e.g. the trainer's global step after a resume
    assert _ids(stream, 2)[:2] == [[4, 5], [6, 7]] == plain[2:]
    assert len(OnlineEpisodes(scenario, 3, 2, seed=1, batches=4)) == 8


def test_episodes_are_keyed_by_seed_stream_and_index():
    scenario = [AdHoc(num_links=5)]
    one = simulate(scenario, 4, seed=3, stream=0, index=7)
    again = simulate(scenario, 4, seed=3, stream=0, index=7)
    other = simulate(scenario, 4, seed=3, stream=1, index=7)
    assert torch.equal(one.edge_gain, again.edge_gain) and int(one.sample_id) == 7
    assert not torch.equal(one.edge_gain, other.edge_gain)


def test_several_scenarios_mix_network_sizes():
    scenarios = [AdHoc(num_links=3), AdHoc(num_links=6)]
    sizes = {simulate(scenarios, 2, seed=0, stream=0, index=i).num_nodes for i in range(20)}
    assert sizes == {3, 6}


def test_endless_stream_has_no_length():
    stream = OnlineEpisodes([AdHoc(num_links=3)], 2, 2, seed=0)
    with pytest.raises(TypeError, match="endless"):
        len(stream)
    first = next(iter(stream))
    assert int(first.sample_id) == 0
