import copy

import pytest
import torch
from jsonargparse import ArgumentParser
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import (
    WMMSE,
    Baseline,
    EqualPower,
    Exhaustive,
    RandomFullPower,
    Strongest,
)
from pyg_aggnn.wireless import AdHoc, RandomSubsets
from pyg_aggnn.wireless.holding import hold, last_active_slot


def async_batch(num_slots=9, sizes=(6, 4, 5)):
    episodes = [
        AdHoc(num_links=m, eta0=0.01, activation=RandomSubsets(2.5)).episode(
            num_slots, seed=10 + k, dtype=torch.float64
        )
        for k, m in enumerate(sizes)
    ]
    return next(iter(DataLoader(episodes, batch_size=len(episodes))))


def brute_force_schedule(active, update_every, when_active):
    N, T = active.shape
    due = torch.zeros(N, T, dtype=torch.bool)
    for i in range(N):
        for t in range(T):
            due[i, t] = (t == 0 and not when_active) or (
                t % update_every == 0 and (bool(active[i, t]) or not when_active)
            )
    return due


@pytest.mark.parametrize("update_every", [1, 2, 3])
@pytest.mark.parametrize("when_active", [False, True])
def test_schedule(update_every, when_active):
    batch = async_batch()
    policy = EqualPower(update_every=update_every, when_active=when_active)
    expected = brute_force_schedule(batch.active, update_every, when_active)
    assert torch.equal(policy.schedule(batch), expected)


@pytest.mark.parametrize(
    "policy",
    [
        WMMSE("distributed", num_iters=3),
        WMMSE("centralized", num_iters=10, budget="scale"),
        Strongest(fraction=0.5),
        Exhaustive(),
    ],
    ids=repr,
)
@pytest.mark.parametrize("update_every,when_active", [(2, False), (1, True), (3, True)])
def test_holding_is_exact(policy, update_every, when_active):
    """A held power is bit-for-bit the link's own decision at its last decision slot,
    and that decision is what the baseline computes from that slot alone."""
    batch = async_batch()
    policy = copy.deepcopy(policy)
    policy.update_every, policy.when_active = 1, False
    every_slot = policy(batch)
    policy.update_every, policy.when_active = update_every, when_active
    held = policy(batch)
    due = brute_force_schedule(batch.active, update_every, when_active)
    N, T = held.shape
    for i in range(N):
        last = None  # silent before the first decision
        for t in range(T):
            if due[i, t]:
                last = t
            expected = 0.0 if last is None else every_slot[i, last].item()
            assert held[i, t].item() == expected, (i, t, last)
    assert bool((held[:, 1:] != held[:, :-1]).any())  # something changes over time
    if when_active:  # some link is asleep at slot 0 and silent until it wakes
        assert bool((~batch.active[:, 0]).any())


def test_random_policy_holds_between_decisions():
    batch = async_batch(num_slots=12)
    policy = RandomFullPower(update_every=3, when_active=True)
    power = policy(batch, torch.Generator().manual_seed(0))
    due = brute_force_schedule(batch.active, 3, True)
    changed = power[:, 1:] != power[:, :-1]
    assert not bool((changed & ~due[:, 1:]).any())
    again = policy(batch, torch.Generator().manual_seed(0))
    assert torch.equal(power, again)


def test_when_active_is_the_learned_policies_holding_rule():
    """With ``when_active`` and a decision at every slot, a baseline's powers are its
    every-slot decisions held exactly as the air holds a learned policy's decisions."""
    batch = async_batch(num_slots=12)
    policy = WMMSE("distributed", num_iters=3)
    every_slot = policy(batch)
    policy.when_active = True
    held = policy(batch)
    expected = hold(every_slot, last_active_slot(batch.active))
    assert torch.equal(held, expected)
    silent = last_active_slot(batch.active) < 0
    assert bool(silent.any()) and bool((held[silent] == 0).all())
    assert bool((every_slot[silent] > 0).any())  # without the rule they would transmit


def test_a_network_that_never_wakes_is_silent():
    batch = async_batch(sizes=(4,))
    batch.active = torch.zeros_like(batch.active)
    power = EqualPower(when_active=True)(batch)
    assert torch.equal(power, torch.zeros_like(power))
    assert bool((EqualPower()(batch) > 0).all())


def test_hold_helper():
    schedule = torch.tensor([[1, 0, 1, 0, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    slots = torch.tensor([0, 1, 2, 4])
    fresh = torch.tensor([[1.0, 9.0, 2.0, 3.0], [4.0, 5.0, 9.0, 9.0]])
    out = Baseline.hold(fresh, schedule, slots)
    assert torch.equal(out, torch.tensor([[1.0, 1.0, 2.0, 2.0, 3.0], [4.0, 5.0, 5.0, 5.0, 5.0]]))
    late = torch.tensor([[0, 0, 1, 0, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)  # link 0 wakes at 2
    out = Baseline.hold(fresh, late, slots)
    assert torch.equal(out, torch.tensor([[0.0, 0.0, 2.0, 2.0, 3.0], [4.0, 5.0, 5.0, 5.0, 5.0]]))


def test_batched_equals_one_episode_at_a_time():
    batch = async_batch()
    episodes = batch.to_data_list()
    for policy in (WMMSE("distributed"), WMMSE("centralized", budget="scale"), Strongest()):
        together = policy(batch)
        alone = torch.cat([policy(ep) for ep in episodes])
        torch.testing.assert_close(together, alone, rtol=0, atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="update_every"):
        EqualPower(update_every=1.5)
    with pytest.raises(ValueError, match="when_active"):
        EqualPower(when_active=1)
    with pytest.raises(ValueError, match="batch"):
        EqualPower()(torch.ones(3))
    with pytest.raises(ValueError, match="generator"):
        EqualPower()(async_batch(), generator=0)

    class Broken(Baseline):
        def decide(self, batch, slots, generator):
            return torch.zeros(3)

    with pytest.raises(RuntimeError, match="decide"):
        Broken()(async_batch())


def test_built_from_a_config_through_class_path():
    parser = ArgumentParser()
    parser.add_argument("--baseline", type=Baseline)
    config = parser.parse_object(
        {
            "baseline": {
                "class_path": "pyg_aggnn.baselines.WMMSE",
                "init_args": {"mode": "centralized", "budget": "scale", "update_every": 2},
            }
        }
    )
    policy = parser.instantiate(config).baseline
    assert isinstance(policy, WMMSE)
    assert (policy.mode, policy.budget, policy.update_every) == ("centralized", "scale", 2)


def test_deterministic_baselines_leave_the_global_random_state_alone():
    batch = async_batch()
    state = torch.get_rng_state()
    for policy in (EqualPower(), Strongest(), WMMSE(), Exhaustive(update_every=3)):
        policy(batch)
    assert torch.equal(torch.get_rng_state(), state)
