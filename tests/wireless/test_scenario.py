import pytest
import torch

from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC, RandomSubsets

SCENARIOS = [
    AdHoc(8),
    AdHoc(300, reference_links=25, activation=RandomSubsets(lam=50)),
    Cellular(3, 4),
    GaussianIC(6),
    D2D(7, link_weights="uniform"),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: type(s).__name__)
def test_same_seed_same_tensors(scenario):
    a, b = scenario.episode(4, seed=11), scenario.episode(4, seed=11)
    c = scenario.episode(4, seed=12)
    for key in a.keys():
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a.edge_gain, c.edge_gain) or not torch.equal(a.tx_pos, c.tx_pos)
    gen = torch.Generator().manual_seed(11)
    assert torch.equal(scenario.episode(4, generator=gen).edge_gain, a.edge_gain)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: type(s).__name__)
def test_episode_invariants(scenario):
    ep = scenario.episode(5, seed=0)
    ep.validate()
    m = scenario.num_links
    assert ep.num_nodes == m and ep.num_slots == 5
    assert bool(torch.isfinite(ep.edge_gain).all()) and bool((ep.edge_gain >= 0).all())
    loops = ep.edge_index[0] == ep.edge_index[1]
    assert int(loops.sum()) == m
    assert torch.equal(ep.edge_gain[loops], ep.direct_gain)
    assert ep.p_max_total.item() == pytest.approx(scenario.p_max_total)


def test_fixed_layout_is_reused():
    scenario = AdHoc(10)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))
    a = scenario.episode(3, seed=1, layout=layout)
    b = scenario.episode(3, seed=2, layout=layout)
    assert torch.equal(a.tx_pos, b.tx_pos) and not torch.equal(a.edge_gain, b.edge_gain)


def test_seed_and_slot_validation():
    with pytest.raises(ValueError, match="num_slots"):
        AdHoc(4).episode(0)
    with pytest.raises(ValueError, match="seed"):
        AdHoc(4).episode(2, seed=-1)
    with pytest.raises(ValueError, match="seed or generator"):
        AdHoc(4).episode(2, seed=1, generator=torch.Generator())


def test_float64_episode():
    ep = AdHoc(5).episode(2, seed=0, dtype=torch.float64)
    assert ep.edge_gain.dtype == torch.float64 and ep.x.dtype == torch.float64


@pytest.mark.gpu
def test_cuda_episode_matches_cpu():
    ep_cpu = AdHoc(20).episode(4, seed=3)
    ep_gpu = AdHoc(20).episode(4, seed=3, device="cuda")
    assert torch.equal(ep_gpu.edge_weight.cpu(), ep_cpu.edge_weight)
    power = torch.ones(20, 4, device="cuda")
    torch.testing.assert_close(ep_gpu.rates(power).cpu(), ep_cpu.rates(power.cpu()))
