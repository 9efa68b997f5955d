import io
import math

import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.data.config import scenario_from_config, scenario_to_config
from pyg_aggnn.wireless import D2D, MISOD2D, RandomSubsets, miso


@pytest.mark.parametrize(
    "num_links, num_slots, dtype, seeds",
    [
        (6, 5, torch.float32, 3),
        (6, 5, torch.float64, 3),
        (50, 1, torch.float32, 2),
        (300, 2, torch.float32, 1),  # sparse: pairs beyond the interference floor dropped
    ],
)
def test_one_antenna_gives_the_single_antenna_numbers(num_links, num_slots, dtype, seeds):
    args = dict(delta=0.3, link_weights="uniform", activation=RandomSubsets(lam=3))
    for seed in range(seeds):
        single = D2D(num_links, **args).episode(num_slots, seed=seed, dtype=dtype)
        multi = MISOD2D(num_links, num_antennas=1, **args).episode(
            num_slots, seed=seed, dtype=dtype
        )
        for key in single.keys():
            assert torch.equal(single[key], multi[key]), key
        assert multi.edge_channel.shape == (single.num_edges, num_slots, 1)
        torch.testing.assert_close(multi.edge_channel.abs()[..., 0], single.edge_gain)
        power = torch.rand(num_links, num_slots, dtype=dtype)
        beams = power.sqrt().to(multi.edge_channel.dtype)[..., None]
        torch.testing.assert_close(multi.rates(beams), single.rates(power))


def test_fields_shapes_and_norms():
    ep = MISOD2D(12, num_antennas=3).episode(4, seed=0)
    assert ep.edge_channel.dtype == torch.complex64
    assert ep.edge_channel.shape == (ep.num_edges, 4, 3)
    assert ep.direct_channel.shape == (12, 4, 3)
    torch.testing.assert_close(torch.linalg.vector_norm(ep.edge_channel, dim=-1), ep.edge_gain)
    loops = (ep.edge_index[0] == ep.edge_index[1]).nonzero().squeeze(1)
    torch.testing.assert_close(ep.edge_channel[loops], ep.direct_channel)
    ep64 = MISOD2D(12, num_antennas=3).episode(4, seed=0, dtype=torch.float64)
    assert ep64.edge_channel.dtype == torch.complex128


def test_antennas_fade_independently_with_ar1_correlation():
    # a frozen large scale: no shadowing, one layout; 2 antennas, delta = 0.36
    scenario = MISOD2D(4, num_antennas=2, shadowing_db=0.0, delta=0.36)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))
    ep = scenario.episode(4000, seed=1, layout=layout, dtype=torch.float64)
    loops = (ep.edge_index[0] == ep.edge_index[1]).nonzero().squeeze(1)
    scale = layout.large_scale[layout.edge_pair[loops]]  # [K]
    f = ep.direct_channel / scale[:, None, None]  # unit fading, [K, T, N_t]
    # E|f|^2 = 1 per antenna, lag-1 correlation sqrt(1 - delta) = 0.8, antennas uncorrelated
    assert f.abs().square().mean().item() == pytest.approx(1.0, abs=0.05)
    lag = (f[:, 1:] * f[:, :-1].conj()).mean().real.item()
    assert lag == pytest.approx(0.8, abs=0.05)
    across = (f[..., 0] * f[..., 1].conj()).mean().abs().item()
    assert across < 0.05
    # E||h||^2 = N_t l^2
    norm2 = ep.direct_gain.square().mean(1) / scale.square()
    assert norm2.mean().item() == pytest.approx(2.0, abs=0.15)


def test_reproducible_batches_and_weights_only_round_trip():
    scenario = MISOD2D(8, num_antennas=2, link_weights="uniform")
    a, b = scenario.episode(3, seed=5), scenario.episode(3, seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a.keys())
    buffer = io.BytesIO()
    torch.save([a], buffer)
    buffer.seek(0)
    (loaded,) = torch.load(buffer, weights_only=True)
    assert torch.equal(loaded.edge_channel, a.edge_channel)
    other = MISOD2D(5, num_antennas=2).episode(3, seed=6)
    batch = next(iter(DataLoader([a, other], batch_size=2)))
    assert batch.edge_channel.shape == (a.num_edges + other.num_edges, 3, 2)
    beams = torch.randn(13, 3, 2, dtype=torch.complex64)
    rates = batch.rates(beams)
    torch.testing.assert_close(rates[:8], a.rates(beams[:8]))
    torch.testing.assert_close(rates[8:], other.rates(beams[8:]))
    assert miso.num_antennas(batch) == 2


def test_config_round_trip_and_density_rule():
    from pyg_aggnn.evaluation.transference import at_size

    scenario = MISOD2D(50, num_antennas=2, min_link_distance_m=10.0, max_link_distance_m=50.0)
    config = scenario_to_config(scenario)
    assert config["class_path"] == "pyg_aggnn.wireless.MISOD2D"
    assert config["init_args"]["field_side_m"] == 1000.0
    rebuilt = scenario_from_config(config)
    assert repr(rebuilt) == repr(scenario)
    bigger = at_size(scenario, 200)
    assert isinstance(bigger, MISOD2D) and bigger.num_antennas == 2
    assert bigger.field_side_m == pytest.approx(1000.0 * math.sqrt(4))
    assert bigger.min_link_distance_m == 10.0


def test_rates_of_beamformers_validate_and_threshold():
    ep = MISOD2D(6, num_antennas=2, eta0=1e3).episode(2, seed=0, dtype=torch.float64)
    beams = torch.randn(6, 2, 2, dtype=torch.complex128)
    full = ep.rates(beams)
    near = ep.rates(beams, neighbours_only=True)
    assert bool((near >= full - 1e-12).all())  # fewer interferers
    torch.testing.assert_close(ep.rates(beams[:, 1], slot=1), full[:, 1])
    with pytest.raises(ValueError, match="beamformers must have shape"):
        ep.rates(beams[..., :1])
    with pytest.raises(ValueError, match="no edge_channel"):
        D2D(6).episode(2, seed=0).rates(beams.to(torch.complex64))
    with pytest.raises(ValueError, match="num_antennas"):
        MISOD2D(6, num_antennas=0)
    broken = ep.clone()
    del broken.direct_channel
    with pytest.raises(ValueError, match="direct_channel is missing"):
        broken.validate()


def test_generate_writes_complex_channels_that_load_with_weights_only(tmp_path):
    from pyg_aggnn.data import GenerationConfig, Stream, WirelessDataset, generate_dataset
    from pyg_aggnn.data.online import simulate

    config = GenerationConfig.from_dict(
        {
            "seed": 3,
            "num_slots": 2,
            "network": "random",
            "shard_size": 2,
            "scenario": {
                "class_path": "MISOD2D",
                "init_args": {"num_links": 5, "num_antennas": 2, "link_weights": "uniform"},
            },
            "splits": {"train": 3, "test": 2},
        }
    )
    path = generate_dataset(config, tmp_path, "miso", progress=False, fsync=False)
    data = WirelessDataset(path, split="train")  # shards load with weights_only=True
    scenario = MISOD2D(5, num_antennas=2, link_weights="uniform")
    for k in range(len(data)):
        online = simulate([scenario], 2, 3, Stream.TRAIN, k)
        for key in ("edge_channel", "direct_channel", "edge_gain", "edge_weight"):
            assert torch.equal(data[k][key], online[key]), key
