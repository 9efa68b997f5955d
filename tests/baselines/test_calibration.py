import pytest
import torch
from torch_geometric.data import Batch

from pyg_aggnn.baselines import WMMSE, calibrate_price
from pyg_aggnn.data.online import simulate
from pyg_aggnn.data.seeding import Stream, keyed_generator
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def _stream(scenario, stream, count, num_slots=4, seed=0):
    layout = scenario.sample_layout(keyed_generator(seed, Stream.LAYOUT))
    return [simulate([scenario], num_slots, seed, stream, k, layout) for k in range(count)]


def _totals(policy, episodes):
    """Total power ``[B, T]`` of every network and slot, and the budgets ``[B]``."""
    batch = Batch.from_data_list(episodes)
    power = policy(batch)  # [N, T]
    totals = torch.zeros(batch.num_graphs, power.size(1)).index_add_(0, batch.batch, power)
    return totals, batch.p_max_total


@pytest.mark.parametrize("m", [6, 12])
def test_meets_the_budget_on_average_not_per_slot(m):
    scenario = AdHoc(num_links=m)
    training = _stream(scenario, Stream.TRAIN, 24)
    policy = WMMSE("distributed", num_iters=4, budget="price")
    free, budget = _totals(WMMSE("distributed", num_iters=4, budget="none"), training)
    assert float(free.mean()) > float(budget.mean())  # the price-free policy spends too much
    price = calibrate_price(policy, training, rtol=1e-3)
    assert price > 0 and policy.price == price
    totals, budget = _totals(policy, training)
    ratio = float(totals.mean() / budget.mean())
    assert 1 - 1e-3 <= ratio <= 1.0
    assert bool((totals > budget[:, None]).any())  # the budget holds on average only
    again = WMMSE("distributed", num_iters=4, budget="price")
    assert calibrate_price(again, training, rtol=1e-3) == price  # deterministic
    held_out, _ = _totals(policy, _stream(scenario, Stream.TEST, 24))
    assert float(held_out.mean() / budget.mean()) == pytest.approx(1.0, abs=0.1)


def test_counts_only_the_scored_slots():
    # asleep links are silent until they first wake: the early slots spend less, and a
    # price calibrated over them overspends the budget on the slots that are scored
    scenario = AdHoc(num_links=12, activation=RandomSubsets(4))
    training = _stream(scenario, Stream.TRAIN, 16, num_slots=8)
    warmup = 4

    def awake():
        return WMMSE("distributed", num_iters=3, budget="price", when_active=True)

    everywhere, scored = awake(), awake()
    calibrate_price(everywhere, training, rtol=1e-3)
    calibrate_price(scored, training, rtol=1e-3, warmup_slots=warmup)
    totals, budget = _totals(scored, training)
    assert 1 - 1e-3 <= float(totals[:, warmup:].mean() / budget.mean()) <= 1.0
    early, _ = _totals(everywhere, training)
    assert float(early[:, warmup:].mean() / budget.mean()) > 1.0  # over on the scored slots
    assert float(early.mean() / budget.mean()) <= 1.0
    assert scored.price > everywhere.price


def test_is_zero_when_the_free_policy_meets_the_budget():
    episodes = [AdHoc(num_links=5, p_max_total=50.0).episode(3, seed=s) for s in range(4)]
    policy = WMMSE("distributed", budget="price", price=1.0)
    assert calibrate_price(policy, episodes) == 0.0 and policy.price == 0.0
    assert torch.equal(policy(episodes[0]), WMMSE("distributed", budget="none")(episodes[0]))


def test_a_batch_a_list_and_one_episode_agree():
    episodes = [AdHoc(num_links=6).episode(3, seed=s) for s in range(3)]
    prices = [
        calibrate_price(WMMSE(budget="price", init="random"), data)
        for data in (episodes, Batch.from_data_list(episodes))
    ]
    assert prices[0] == prices[1]
    assert calibrate_price(WMMSE(budget="price"), episodes[0]) >= 0


def test_bad_arguments():
    episodes = [AdHoc(num_links=3).episode(2, seed=0)]
    with pytest.raises(ValueError, match="baseline"):
        calibrate_price(WMMSE(budget="scale"), episodes)
    for kwargs, name in ((dict(rtol=0.0), "rtol"), (dict(max_iters=0), "max_iters")):
        with pytest.raises(ValueError, match=name):
            calibrate_price(WMMSE(budget="price"), episodes, **kwargs)
    with pytest.raises(ValueError, match="episodes"):
        calibrate_price(WMMSE(budget="price"), [])
    for warmup in (-1, 2):  # the episodes have 2 slots
        with pytest.raises(ValueError, match="warmup_slots"):
            calibrate_price(WMMSE(budget="price"), episodes, warmup_slots=warmup)
