"""Beamforming through the training module: the real config, shrunk, end to end."""

from pathlib import Path

import pytest
import torch
from torch_geometric.loader import DataLoader

from lightning_modules.cli import AggGNNCLI, train
from lightning_modules.primal_dual import PrimalDualModule
from pyg_aggnn.baselines import MaxRatioTransmission, WMMSEBeamforming
from pyg_aggnn.evaluation import BaselineAllocator, PolicyAllocator, evaluate
from pyg_aggnn.evaluation.metrics import network_metrics
from pyg_aggnn.nn import WCGCNBeamforming
from pyg_aggnn.on_air import OnAirPolicy, allocate
from pyg_aggnn.wireless import MISOD2D, miso

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "wcgcn" / "beamforming_k50_nt2.yaml"
SMALL = ["--data.val_size", "4", "--data.test_size", "4", "--data.eval_batch_size", "4"]
SMALL += ["--data.train_size", "8", "--data.batch_size", "4", "--torch_threads", "1"]


@pytest.fixture(autouse=True)
def _command_line(monkeypatch):
    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])


def test_fast_dev_run_of_the_beamforming_config(tmp_path):
    args = ["fit", "--config", str(CONFIG), "--trainer.fast_dev_run", "2", *SMALL]
    cli = AggGNNCLI(args=[*args, "--trainer.default_root_dir", str(tmp_path)])
    metrics = cli.trainer.callback_metrics
    assert cli.trainer.global_step == 2
    want = {"train/sum_rate", "val/sum_rate", "val/sum_rate_wmmse", "val/sum_rate_wmmse_local"}
    assert want <= set(metrics)
    assert all(torch.isfinite(value) for value in metrics.values())
    assert float(metrics["val/power_per_link"]) <= 1.0 + 1e-6  # ||v||^2 <= p0 = 1


def test_train_prints_the_wcgcn_row_beside_wmmse(tmp_path, capsys):
    args = ["--config", str(CONFIG), "--trainer.max_steps", "2", *SMALL]
    args += ["--trainer.log_every_n_steps", "1"]  # two steps: log them both
    assert train([*args, "--trainer.default_root_dir", str(tmp_path)]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {"WCGCNBeamforming", "wmmse", "wmmse_local"} <= set(rows)


def test_short_model_based_run_beats_maximum_ratio_transmission():
    # K = 8 links of a 400 m field, every pair in the graph: 200 steps of 16 networks
    torch.manual_seed(0)
    torch.set_num_threads(1)
    scenario = MISOD2D(8, num_antennas=2, field_side_m=400.0, link_weights="uniform")
    train_set = [scenario.episode(1, seed=100 + k) for k in range(320)]
    test_set = [scenario.episode(1, seed=k) for k in range(32)]
    policy = WCGCNBeamforming(2, max_distance_m=None, message_channels=(32, 32))
    module = PrimalDualModule(policy, mode="model_based", network="random", baselines={})
    optimizer = torch.optim.Adam(policy.parameters(), lr=0.01)
    for _ in range(10):
        for batch in DataLoader(train_set, batch_size=16, shuffle=True):
            loss, _ = module.primal_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    methods = {
        "wcgcn": PolicyAllocator(OnAirPolicy(policy, mode="model_based")),
        "mrt": BaselineAllocator(MaxRatioTransmission()),
        "wmmse": BaselineAllocator(WMMSEBeamforming()),
    }
    results = evaluate(methods, test_set)
    rate = {name: r.summary()["sum_rate"] for name, r in results.items()}
    assert rate["wcgcn"] > 1.05 * rate["mrt"], rate
    assert rate["wmmse"] > rate["wcgcn"], rate


def test_on_air_beamformers_and_their_metrics():
    torch.manual_seed(1)
    policy = WCGCNBeamforming(2).double()
    episode = MISOD2D(6, num_antennas=2).episode(3, seed=0, dtype=torch.float64)
    on_air = allocate(policy, episode, "model_based")
    assert on_air.logits is None and on_air.transmitted.shape == (6, 3, 1, 2)
    torch.testing.assert_close(on_air.power, miso.beam_power(on_air.transmitted))
    metrics = network_metrics(episode, on_air.transmitted)
    weighted = miso.weighted_sum_rate(
        on_air.transmitted,
        episode.direct_channel,
        episode.edge_index,
        episode.edge_channel,
        episode.noise_power,
        episode.link_weight,
    )
    torch.testing.assert_close(metrics.sum_rate, weighted.mean((1, 2)))
    torch.testing.assert_close(metrics.power_per_link, on_air.power.mean().reshape(1))
    with pytest.raises(ValueError, match="mode must be 'model_based'"):
        allocate(policy, episode, "model_free")
    with pytest.raises(ValueError, match="mode must be 'model_based'"):
        PrimalDualModule(policy, mode="model_free")
