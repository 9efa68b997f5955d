import torch
from torch_geometric.data import Batch

from lightning_modules.comparison import BaselineComparison
from lightning_modules.metrics import scored_slots
from lightning_modules.problem import PowerProblem
from pyg_aggnn.baselines import WMMSE, EqualPower, Exhaustive, RandomFullPower
from pyg_aggnn.wireless import AdHoc, physics


def _batch(m, count=3, num_slots=4):
    scenario = AdHoc(num_links=m)
    episodes = [scenario.episode(num_slots, seed=s) for s in range(count)]
    for index, episode in enumerate(episodes):
        episode.sample_id = torch.tensor([index])
    return Batch.from_data_list(episodes)


def test_default_set_follows_the_papers():
    big = BaselineComparison.default_baselines(25, num_exchanges=6, update_every=2)
    assert set(big) == {"wmmse", "equal", "random"}
    assert isinstance(big["wmmse"], WMMSE) and big["wmmse"].num_iters == 6
    assert big["wmmse"].mode == "distributed" and big["wmmse"].budget == "scale"
    assert isinstance(big["equal"], EqualPower) and isinstance(big["random"], RandomFullPower)
    assert all(b.update_every == 2 for b in big.values())
    small = BaselineComparison.default_baselines(8)
    assert isinstance(small["exhaustive"], Exhaustive)


def test_metrics_match_a_direct_evaluation_and_are_cached():
    batch = _batch(6)
    problem = PowerProblem()
    scored = scored_slots(batch, 1)
    comparison = BaselineComparison({"equal": EqualPower()})
    metrics = comparison.metrics(problem, batch, scored, key=("val", 0))
    power = EqualPower()(batch)  # [N, T]
    rates = batch.rates(power)
    total = physics.sum_rate(rates, batch.batch, batch.link_weight, batch.num_graphs)
    torch.testing.assert_close(metrics["sum_rate_equal"], total[:, 1:].mean())
    torch.testing.assert_close(metrics["power_per_link_equal"], power[:, 1:].mean())
    assert abs(float(metrics["violation_equal"])) < 1e-6
    assert comparison.metrics(problem, batch, scored, key=("val", 0)) is metrics
    assert "reward_equal" not in metrics


def test_small_networks_add_the_exhaustive_search_within_the_budget():
    batch = _batch(5, count=2, num_slots=3)
    comparison = BaselineComparison()
    metrics = comparison.metrics(PowerProblem(), batch, scored_slots(batch, 0), key=(0,))
    assert set(comparison.baselines) == {"wmmse", "equal", "random", "exhaustive"}
    assert float(metrics["violation_exhaustive"]) <= 1e-6  # binary, budget met in every slot
    assert float(metrics["sum_rate_exhaustive"]) > 0
