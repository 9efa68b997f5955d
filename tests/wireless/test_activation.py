import pytest
import torch

from pyg_aggnn.wireless import GivenSubsets, PeriodicClocks, RandomSubsets, Synchronous


def test_synchronous():
    assert bool(Synchronous().sample(4, 3).all())


def test_random_subsets_draws_one_of_the_subsets_each_slot():
    model = RandomSubsets(lam=6, num_subsets=4)
    gen = torch.Generator().manual_seed(0)
    mask = model.sample(20, 200, gen)
    assert mask.shape == (20, 200) and mask.dtype == torch.bool
    patterns = {tuple(col.tolist()) for col in mask.T}
    assert 1 <= len(patterns) <= 4
    assert bool((mask.sum(0) >= 1).all())


def test_random_subset_sizes_are_clipped_poisson():
    model = RandomSubsets(lam=25, num_subsets=4000)
    sizes = torch.tensor([len(s) for s in model.subsets(50, torch.Generator().manual_seed(1))])
    assert sizes.float().mean().item() == pytest.approx(25, abs=0.5)
    assert sizes.float().var().item() == pytest.approx(25, rel=0.15)
    small = RandomSubsets(lam=30, num_subsets=200).subsets(10, torch.Generator().manual_seed(2))
    assert all(1 <= len(s) <= 10 for s in small)
    assert all(len(set(s.tolist())) == len(s) for s in small)


def test_fixed_subset_seed_keeps_subsets_across_episodes():
    model = RandomSubsets(lam=5, num_subsets=3, subset_seed=7)
    a = model.subsets(30, torch.Generator().manual_seed(1))
    b = model.subsets(30, torch.Generator().manual_seed(2))
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_periodic_clocks():
    mask = PeriodicClocks(period=[1, 2, 3], offset=[0, 1, 2]).sample(3, 7)
    t = torch.arange(7)
    assert torch.equal(mask[0], torch.ones(7, dtype=torch.bool))
    assert torch.equal(mask[1], (t - 1) % 2 == 0)
    assert torch.equal(mask[2], (t - 2) % 3 == 0)
    random_offsets = PeriodicClocks(period=4).sample(50, 8, torch.Generator().manual_seed(0))
    assert bool((random_offsets.sum(1) == 2).all())


def test_given_subsets():
    mask = GivenSubsets([[0, 2], [1]]).sample(3, 50, torch.Generator().manual_seed(0))
    for col in mask.T.tolist():
        assert col in ([True, False, True], [False, True, False])


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: RandomSubsets(lam=0), "lam"),
        (lambda: RandomSubsets(lam=3, num_subsets=0), "num_subsets"),
        (lambda: GivenSubsets([]), "subsets"),
        (lambda: GivenSubsets([[0], []]), "subsets"),
        (lambda: GivenSubsets([[0, 5]]).sample(3, 2), "subsets"),
        (lambda: PeriodicClocks(period=0), "period"),
        (lambda: PeriodicClocks(period=[2, 2]).sample(3, 2), "period"),
        (lambda: PeriodicClocks(period=2, offset=[0]).sample(3, 2), "offset"),
    ],
)
def test_bad_activation_sets(build, name):
    with pytest.raises(ValueError, match=name):
        build()
