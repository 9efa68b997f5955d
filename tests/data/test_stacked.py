import pytest
import torch
from torch_geometric.data import Batch

from lightning_modules.datamodule import WirelessDataModule
from pyg_aggnn.data.online import simulate, simulate_set
from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.data.stacked import StackedEpisodes, stack_episodes
from pyg_aggnn.wireless import AdHoc, GaussianIC


def _episodes(scenario, count, num_slots=3, layout=None):
    return [simulate([scenario], num_slots, 0, Stream.TRAIN, k, layout) for k in range(count)]


def _assert_same_batch(ours, theirs):
    assert type(ours) is type(theirs)
    assert set(ours.keys()) == set(theirs.keys())
    for key in theirs.keys():
        assert ours[key].dtype == theirs[key].dtype, key
        assert torch.equal(ours[key], theirs[key]), key
    assert ours.num_graphs == theirs.num_graphs
    for table in ("_slice_dict", "_inc_dict"):
        mine, reference = getattr(ours, table), getattr(theirs, table)
        assert set(mine) == set(reference)
        for key in reference:
            assert torch.equal(torch.as_tensor(mine[key]), torch.as_tensor(reference[key])), key


@pytest.mark.parametrize(
    "scenario, fixed",
    [(GaussianIC(num_links=5), False), (AdHoc(num_links=6), True)],
    ids=["gaussian-ic", "fixed-ad-hoc"],
)
def test_batches_equal_pyg_collation(scenario, fixed):
    layout = scenario.sample_layout(torch.Generator().manual_seed(3)) if fixed else None
    episodes = _episodes(scenario, 12, layout=layout)
    stacked = stack_episodes(episodes, chunk=5)  # three chunks, concatenated
    assert isinstance(stacked, StackedEpisodes) and len(stacked) == 12
    for indices in ([0], [3, 1, 7], list(range(12))[::-1], [4, 4, 2]):
        ours = stacked.__getitems__(indices)
        _assert_same_batch(ours, Batch.from_data_list([episodes[k] for k in indices]))
        for k, example in zip(indices, ours.to_data_list()):
            for key in episodes[k].keys():
                assert torch.equal(example[key], episodes[k][key]), key


def test_an_item_is_its_episode():
    episodes = _episodes(GaussianIC(num_links=4), 3)
    stacked = StackedEpisodes(episodes)
    item = stacked[2]
    assert type(item) is type(episodes[2])
    for key in episodes[2].keys():
        assert torch.equal(item[key], episodes[2][key]), key


def test_episodes_of_several_shapes_stay_a_list_in_order():
    small, large = _episodes(GaussianIC(num_links=4), 3), _episodes(GaussianIC(num_links=5), 2)
    mixed = [*small, *large]
    found = stack_episodes(iter(mixed), chunk=2)  # the mismatch is found in the 2nd chunk
    assert isinstance(found, list) and len(found) == 5
    for ours, theirs in zip(found, mixed):
        for key in theirs.keys():
            assert torch.equal(ours[key], theirs[key]), key
    with pytest.raises(ValueError, match="one shape"):
        StackedEpisodes(mixed)
    with pytest.raises(ValueError, match="at least one episode"):
        StackedEpisodes([])
    assert stack_episodes([]) == []


def test_the_training_loader_yields_the_batches_of_pyg():
    data = WirelessDataModule(
        GaussianIC(num_links=4), network="random", num_slots=2, batch_size=8, train_size=40
    )
    loader = data.train_dataloader()
    assert isinstance(data._split("train"), StackedEpisodes)
    order = list(loader.sampler)
    for step, batch in enumerate(loader):
        indices = order[step * 8 : (step + 1) * 8]
        reference = [simulate(data.scenarios, 2, 0, Stream.TRAIN, k) for k in indices]
        _assert_same_batch(batch, Batch.from_data_list(reference))
    assert len(data.training_episodes(3)) == 3


@pytest.mark.parametrize(
    "scenarios",
    [[GaussianIC(num_links=4)], [GaussianIC(num_links=3), GaussianIC(num_links=4)]],
    ids=["one-shape", "random-sizes"],
)
def test_a_set_simulated_by_worker_processes_is_the_serial_one(scenarios):
    reference = [simulate(scenarios, 2, 5, Stream.TRAIN, k) for k in range(23)]
    # two worker processes over five chunks of five (the last of three episodes)
    found = simulate_set(scenarios, 2, 5, Stream.TRAIN, 23, workers=2, chunk=5)
    if len(scenarios) == 1:
        assert isinstance(found, StackedEpisodes)
    else:  # networks of several sizes stay a list
        assert isinstance(found, list)
    assert len(found) == 23
    for k, theirs in enumerate(reference):
        for key in theirs.keys():
            assert torch.equal(found[k][key], theirs[key]), (k, key)


def test_a_data_module_takes_its_simulation_workers():
    kwargs = dict(network="random", num_slots=2, batch_size=8, train_size=40)
    data = WirelessDataModule(GaussianIC(num_links=4), simulation_workers=2, **kwargs)
    assert data._simulation_workers() == 2
    assert WirelessDataModule(GaussianIC(num_links=4), **kwargs)._simulation_workers() >= 1
    # a set of fewer than two chunks is simulated in this process: the same episodes
    reference = simulate_set(data.scenarios, 2, 0, Stream.TRAIN, 40, workers=2, chunk=16)
    for key in reference.keys:
        assert torch.equal(data._split("train").fields[key], reference.fields[key]), key
    with pytest.raises(ValueError, match="simulation_workers must be"):
        WirelessDataModule(GaussianIC(num_links=4), simulation_workers=0, **kwargs)
    with pytest.raises(ValueError, match="workers must be"):
        simulate_set(data.scenarios, 2, 0, Stream.TRAIN, 4, workers=0)


def _bad_episode_checks(stacked, index):
    """What validating episode ``index`` alone raises (the reference for the stack)."""
    with pytest.raises(ValueError) as alone:
        stacked[index].validate()
    return str(alone.value).split(",")[0]


@pytest.mark.parametrize(
    "field, value",
    [
        ("edge_gain", -1.0),
        ("direct_gain", float("nan")),
        ("link_weight", -0.5),
        ("x", float("inf")),
    ],
)
def test_a_stack_is_validated_as_its_episodes_are(field, value):
    stacked = StackedEpisodes(_episodes(GaussianIC(num_links=4), 6))
    assert stacked.validate() is stacked
    for k in range(len(stacked)):
        stacked[k].validate()  # every episode passes alone
    stacked.fields[field].view(6, -1)[4, 2] = value  # episode 4 only
    message = _bad_episode_checks(stacked, 4)
    assert message.startswith(field)
    with pytest.raises(ValueError, match=f"^{field} must"):
        stacked.validate()
    assert message == _bad_episode_checks(stacked, 4)


def test_a_stack_checks_indices_per_episode_and_the_first_shapes():
    stacked = StackedEpisodes(_episodes(AdHoc(num_links=5), 3))
    # 5 is out of range in a 5-link episode, though it would name a node of a batch
    stacked.fields["edge_index"][2, 0, 0] = 5
    with pytest.raises(ValueError, match="^edge_index must"):
        stacked.validate()
    stacked = StackedEpisodes(_episodes(AdHoc(num_links=5), 3))
    stacked.fields["link_weight"] = stacked.fields["link_weight"].to(torch.int64)
    with pytest.raises(ValueError, match="link_weight"):
        stacked.validate()


def test_a_simulated_set_is_checked(monkeypatch):
    from pyg_aggnn.data import episode as episode_module

    checked = []
    original = StackedEpisodes.validate
    monkeypatch.setattr(
        StackedEpisodes, "validate", lambda self: checked.append(len(self)) or original(self)
    )
    per_episode = []
    monkeypatch.setattr(
        episode_module.WirelessEpisode,
        "validate",
        lambda self: per_episode.append(1) or self,
    )
    found = simulate_set([GaussianIC(num_links=3)], 1, 0, Stream.TRAIN, 7)
    assert checked == [7] and per_episode == []  # once, as a stack, not per episode
    reference = [simulate([GaussianIC(num_links=3)], 1, 0, Stream.TRAIN, k) for k in range(7)]
    assert per_episode == [1] * 7  # a single episode is still checked as it is built
    for k, theirs in enumerate(reference):
        for key in theirs.keys():
            assert torch.equal(found[k][key], theirs[key]), (k, key)


def test_simulating_with_workers_leaves_the_global_random_state_alone():
    torch.manual_seed(11)
    simulate_set([GaussianIC(num_links=3)], 1, 0, Stream.TRAIN, 12, workers=2, chunk=4)
    after_workers = torch.rand(3)
    torch.manual_seed(11)
    simulate_set([GaussianIC(num_links=3)], 1, 0, Stream.TRAIN, 12)
    assert torch.equal(after_workers, torch.rand(3))
