import pytest
import torch

from lightning_modules.checkpoints import load_module
from pyg_aggnn.baselines import EqualPower, RandomFullPower
from pyg_aggnn.baselines.suite import BASELINES, baseline_suite
from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.evaluation.allocators import BaselineAllocator, PolicyAllocator
from pyg_aggnn.evaluation.episodes import simulate_episodes
from pyg_aggnn.evaluation.evaluator import batches, evaluate
from pyg_aggnn.wireless import AdHoc, RandomSubsets
from pyg_aggnn.wireless.holding import last_active_slot


def _dense_sum_rate(episode, power, warmup):
    """Independent reference: dense SINR on every slot, gain[i, j] = Tx j -> Rx i."""
    totals = []
    for t in range(warmup, episode.num_slots):
        gain = episode.dense_gain(t).double() ** 2
        p = power[:, t].double()
        received = gain * p[None, :]
        signal = received.diagonal()
        totals.append(torch.log1p(signal / (1.0 + received.sum(1) - signal)).sum())
    return torch.stack(totals).mean()


def test_every_method_sees_the_same_networks_and_matches_dense_math(tiny_run):
    episodes = simulate_episodes(AdHoc(5), 5, 6, seed=2)
    module = load_module(tiny_run.checkpoint)
    methods = {
        "agg": PolicyAllocator(module),
        "equal": BaselineAllocator(EqualPower()),
        "random": BaselineAllocator(RandomFullPower(), seed=4),
    }
    results = evaluate(methods, episodes, warmup_slots=2, max_links=12)
    for name, allocate in methods.items():
        k = 0
        for batch in batches(episodes, max_links=12):  # the same batches: the same draws
            power = allocate(batch)[..., 0]
            for g in range(batch.num_graphs):
                lo, hi = int(batch.ptr[g]), int(batch.ptr[g + 1])
                expected = _dense_sum_rate(episodes[k], power[lo:hi], warmup=2)
                found = results[name].per_network["sum_rate"][k].item()
                assert found == pytest.approx(expected.item(), rel=1e-5)
                k += 1
        assert k == 5 and results[name].link_rate.numel() == 25
    equal = results["equal"].per_network
    assert torch.allclose(equal["violation"], torch.zeros(5, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(equal["power_per_link"], torch.ones(5, dtype=torch.float64))


def test_results_do_not_depend_on_the_batching():
    episodes = simulate_episodes(AdHoc(4), 6, 5, seed=0)
    methods = {"random": BaselineAllocator(RandomFullPower())}
    one = evaluate(methods, episodes, max_links=4)["random"].per_network["sum_rate"]
    again = evaluate(methods, episodes, max_links=4)["random"].per_network["sum_rate"]
    assert torch.equal(one, again)
    grouped = evaluate(methods, episodes, max_links=100)["random"].per_network["sum_rate"]
    assert grouped.shape == one.shape


def test_batches_respect_the_link_budget():
    episodes = simulate_episodes(AdHoc(4), 5, 3, seed=0)
    sizes = [b.num_graphs for b in batches(episodes, max_links=9)]
    assert sizes == [2, 2, 1]
    assert [int(e.sample_id) for e in episodes] == [0, 1, 2, 3, 4]


def test_fixed_network_episodes_share_the_data_module_layout():
    from lightning_modules.datamodule import WirelessDataModule

    data = WirelessDataModule(scenario=AdHoc(6), seed=3, test_size=2, num_slots=4)
    ours = simulate_episodes(AdHoc(6), 2, 4, seed=3, network="fixed")
    theirs = data._split("test")
    for a, b in zip(ours, theirs):
        assert torch.equal(a.tx_pos, b.tx_pos) and torch.equal(a.edge_gain, b.edge_gain)
    random = simulate_episodes(AdHoc(6), 2, 4, seed=3)
    assert not torch.equal(random[0].tx_pos, random[1].tx_pos)


def test_suite_builds_the_named_baselines():
    calibration = simulate_episodes(AdHoc(8), 4, 3, stream=Stream.TRAIN)
    suite = baseline_suite(
        BASELINES, num_exchanges=3, update_every=2, max_links=8, calibration=calibration
    )
    assert list(suite) == list(BASELINES)
    assert suite["wmmse_local"].budget == "price" and suite["wmmse_local"].price is not None
    assert "wmmse_local" not in baseline_suite(max_links=8)  # no training episodes
    assert "binary" in baseline_suite(max_links=50) and "binary" not in baseline_suite()
    with pytest.raises(ValueError, match="calibration"):
        baseline_suite(["wmmse_local"])
    assert suite["wmmse"].num_iters == 3 and suite["wmmse"].mode == "distributed"
    awake = suite.pop("wmmse_local_awake")  # named: built in a synchronous setting too
    assert awake.when_active and awake.update_every == 1 and awake.price is not None
    assert all(b.update_every == 2 for b in suite.values())
    assert "wmmse_local_awake" not in baseline_suite(max_links=8, calibration=calibration)
    assert "exhaustive" not in baseline_suite(max_links=11)
    assert "exhaustive" in baseline_suite(max_links=10)
    with pytest.raises(ValueError, match="names"):
        baseline_suite(["oracle"])


def test_asynchronous_settings_add_the_wake_constrained_wmmse():
    """In an asynchronous setting the default set adds the fixed-price WMMSE that, like a
    learned policy, decides only when its link is awake and is silent before it wakes;
    its price is calibrated under that constraint, so it meets the budget on average."""
    scenario = AdHoc(8, activation=RandomSubsets(lam=4))
    calibration = simulate_episodes(scenario, 8, 6, stream=Stream.TRAIN)
    suite = baseline_suite(num_exchanges=3, update_every=2, max_links=8, calibration=calibration)
    awake, local = suite["wmmse_local_awake"], suite["wmmse_local"]
    assert awake.when_active and awake.update_every == 1 and local.update_every == 2
    batch = next(iter(batches(calibration, max_links=1000)))
    power = awake(batch)
    source = last_active_slot(batch.active)
    assert bool((source < 0).any()) and bool((power[source < 0] == 0).all())
    mean_total = float(power.sum() / (batch.num_graphs * batch.active.size(1)))
    assert mean_total == pytest.approx(float(batch.p_max_total.mean()), rel=0.02)
    with pytest.raises(ValueError, match="wmmse_local_awake"):
        baseline_suite(["wmmse_local_awake"])


def test_evaluate_needs_methods():
    with pytest.raises(ValueError, match="methods"):
        evaluate({}, simulate_episodes(AdHoc(3), 1, 2))
