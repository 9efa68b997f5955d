import torch
from torch_geometric.data import Batch

from lightning_modules.comparison import BaselineComparison
from lightning_modules.metrics import scored_slots
from lightning_modules.problem import PowerProblem
from pyg_aggnn.baselines import WMMSE, BinaryBound, EqualPower, Exhaustive, RandomFullPower
from pyg_aggnn.wireless import AdHoc, physics


def _batch(m, count=3, num_slots=4):
    scenario = AdHoc(num_links=m)
    episodes = [scenario.episode(num_slots, seed=s) for s in range(count)]
    for index, episode in enumerate(episodes):
        episode.sample_id = torch.tensor([index])
    return Batch.from_data_list(episodes)


def test_default_set_follows_the_papers():
    big = BaselineComparison.default_baselines(25, num_exchanges=6, update_every=2)
    assert set(big) == {"wmmse", "binary", "equal", "random"}
    assert isinstance(big["wmmse"], WMMSE) and big["wmmse"].num_iters == 6
    assert big["wmmse"].mode == "distributed" and big["wmmse"].budget == "scale"
    assert isinstance(big["equal"], EqualPower) and isinstance(big["random"], RandomFullPower)
    assert isinstance(big["binary"], BinaryBound) and big["binary"].exact_links == 10
    assert all(b.update_every == 2 for b in big.values())
    small = BaselineComparison.default_baselines(8)
    assert isinstance(small["exhaustive"], Exhaustive)
    assert "binary" not in BaselineComparison.default_baselines(51)


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
    assert set(comparison.baselines) == {"wmmse", "binary", "equal", "random", "exhaustive"}
    assert float(metrics["violation_exhaustive"]) <= 1e-6  # binary, budget met in every slot
    assert float(metrics["sum_rate_exhaustive"]) > 0


def test_local_wmmse_is_calibrated_once_on_training_episodes():
    from lightning_modules.datamodule import WirelessDataModule
    from pyg_aggnn.data.online import simulate
    from pyg_aggnn.data.seeding import Stream

    data = WirelessDataModule(scenario=AdHoc(5), num_slots=3, seed=2, val_size=2, test_size=2)
    training = data.training_episodes(4)
    reference = [simulate(data.scenarios, 3, 2, Stream.TRAIN, k, data.layout) for k in range(4)]
    assert all(torch.equal(a.edge_gain, b.edge_gain) for a, b in zip(training, reference))
    asked = []

    def episodes(count):
        asked.append(count)
        return data.training_episodes(count)

    comparison = BaselineComparison(num_exchanges=3, training_episodes=episodes, calibration_size=6)
    batch = Batch.from_data_list(data._split("val"))
    problem, scored = PowerProblem(), scored_slots(batch, 0)
    metrics = comparison.metrics(problem, batch, scored, key=("val", 0))
    local = comparison.baselines["wmmse_local"]
    assert asked == [6] and local.budget == "price" and local.num_iters == 3
    assert local.price is not None and local.price >= 0
    assert {"sum_rate_wmmse_local", "sum_rate_binary"} <= set(metrics)
    comparison.metrics(problem, batch, scored, key=("val", 1))
    assert asked == [6]  # calibrated once

    given = BaselineComparison({"mine": WMMSE(budget="price")}, training_episodes=episodes)
    given.metrics(problem, batch, scored, key=(0,))
    assert given.baselines["mine"].price is not None


def test_prices_are_calibrated_on_the_scored_slots_of_the_module():
    from lightning_modules import PrimalDualModule
    from lightning_modules.datamodule import WirelessDataModule
    from pyg_aggnn.baselines import calibrate_price
    from pyg_aggnn.nn import AggGNN
    from pyg_aggnn.wireless import RandomSubsets

    data = WirelessDataModule(
        scenario=AdHoc(8, activation=RandomSubsets(4)), num_slots=6, seed=1, val_size=2
    )
    module = PrimalDualModule(AggGNN(K=3), warmup_slots=3)
    assert module.comparison.warmup_slots == 3
    module.comparison.training_episodes = data.training_episodes
    batch = Batch.from_data_list(data._split("val"))
    module.comparison.metrics(PowerProblem(), batch, scored_slots(batch, 3), key=(0,))
    episodes = data.training_episodes(module.comparison.calibration_size)
    for name in ("wmmse_local", "wmmse_local_awake"):
        baseline = module.comparison.baselines[name]
        twin = WMMSE(
            **{k: getattr(baseline, k) for k in ("mode", "num_iters", "update_every")},
            budget="price",
            when_active=baseline.when_active,
        )
        assert baseline.price > 0
        assert calibrate_price(twin, episodes, warmup_slots=3) == baseline.price
        assert calibrate_price(twin, episodes) != baseline.price
