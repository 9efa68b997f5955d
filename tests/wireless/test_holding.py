import pytest
import torch

from pyg_aggnn.wireless.holding import credit, hold, last_active_slot


def _reference_source(active):
    num_nodes, num_slots = active.shape
    source = torch.full((num_nodes, num_slots), -1, dtype=torch.long)
    for i in range(num_nodes):
        last = -1
        for t in range(num_slots):
            if active[i, t]:
                last = t
            source[i, t] = last
    return source


def test_last_active_slot_matches_loop():
    generator = torch.Generator().manual_seed(0)
    active = torch.rand(7, 12, generator=generator) < 0.4
    assert torch.equal(last_active_slot(active), _reference_source(active))


def test_last_active_slot_synchronous_is_identity():
    source = last_active_slot(torch.ones(3, 5, dtype=torch.bool))
    assert torch.equal(source, torch.arange(5).expand(3, 5))


def test_last_active_slot_rejects_bad_shape():
    with pytest.raises(ValueError, match="active must have shape"):
        last_active_slot(torch.ones(3, dtype=torch.bool))


def test_hold_keeps_last_active_decision_and_starts_silent():
    active = torch.tensor([[False, True, False, False, True], [True, True, True, True, True]])
    decision = torch.arange(10.0).reshape(2, 5)
    held = hold(decision, last_active_slot(active), initial=-1.0)
    assert torch.equal(held, torch.tensor([[-1.0, 1, 1, 1, 4], [5, 6, 7, 8, 9]]))


def test_hold_with_samples_and_gradient():
    active = torch.tensor([[True, False, True]])
    decision = torch.arange(6.0).reshape(1, 3, 2).requires_grad_(True)
    held = hold(decision, last_active_slot(active))
    assert torch.equal(held.detach(), torch.tensor([[[0.0, 1], [0, 1], [4, 5]]]))
    held.sum().backward()
    assert torch.equal(decision.grad, torch.tensor([[[2.0, 2], [0, 0], [1, 1]]]))


def test_credit_sums_rewards_of_held_slots():
    generator = torch.Generator().manual_seed(1)
    active = torch.rand(5, 9, generator=generator) < 0.5
    reward = torch.randn(5, 9, 3, generator=generator)
    source = last_active_slot(active)
    got = credit(reward, source)
    want = torch.zeros_like(reward)
    for i in range(5):
        for t in range(9):
            if source[i, t] >= 0:
                want[i, source[i, t]] += reward[i, t]
    torch.testing.assert_close(got, want)
    # nothing is credited to a slot that took no decision, and no reward is lost
    assert bool((got[~active] == 0).all())
    kept = reward * (source >= 0)[..., None]
    torch.testing.assert_close(got.sum(1), kept.sum(1))
