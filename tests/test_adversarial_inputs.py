"""Adversarial inputs at the public boundary: every bad value gets one clear ValueError.

Each case asserts a ``ValueError`` whose message names the argument (and, where there is
one, the offending value). Property-based cases draw random shapes and put NaN, infinite
or negative entries at random positions.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data
from torch_geometric.nn import GCN

from pyg_aggnn._validation import amplitude_limit, check_values
from pyg_aggnn.baselines import (
    WMMSE,
    equal_power,
    exhaustive,
    random_full_power,
    strongest,
    wmmse,
)
from pyg_aggnn.data import WirelessEpisode
from pyg_aggnn.nn import WCGCN, AggGNN, GenericGNNPolicy, MLPPolicy, SelectionGNN
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC, physics
from pyg_aggnn.wireless.scenario import Layout
from pyg_aggnn.wireless.states import ConstantState

BAD_VALUES = [math.nan, math.inf, -math.inf, -1e-3, -5.0]
FAST = settings(max_examples=25, deadline=None)

M, T = 5, 4
EPISODE = AdHoc(M).episode(T, seed=0)
DIRECT, EDGE_INDEX, EDGE_GAIN = physics.dense_to_edges(torch.rand(3, 3, dtype=torch.float64))


def _message(value: float) -> str:
    """How the offending entry appears in the message."""
    return "nan" if math.isnan(value) else repr(value)


def _poison(shape: tuple[int, ...], position: int, value: float) -> torch.Tensor:
    power = torch.ones(shape, dtype=torch.float64)
    power.view(-1)[position % power.numel()] = value
    return power


# ---------------------------------------------------------------------- shared checker
def test_check_values_names_entry_index_and_bounds():
    with pytest.raises(
        ValueError, match=r"power must hold finite values >= 0, got nan at index \[1, 0\]"
    ):
        check_values(("gain", torch.ones(3)), ("power", torch.tensor([[1.0], [math.nan]]), 0.0))
    with pytest.raises(ValueError, match=r"noise must hold finite values > 0, got 0\.0"):
        check_values(("noise", torch.tensor([1.0, 0.0]), 0.0, math.inf, True))
    with pytest.raises(ValueError, match=r"edge_index must hold values in \[0, 2\], got 3"):
        check_values(("edge_index", torch.tensor([[0, 3], [1, 2]]), 0, 2))
    with pytest.raises(ValueError, match="x must be a torch.Tensor"):
        check_values(("x", [1.0]))
    check_values(("empty", torch.empty(0, 3), 0.0), ("ints", torch.arange(4), 0, 3))


def test_amplitude_limit_keeps_products_of_received_powers_finite():
    for dtype in (torch.float16, torch.float32, torch.float64):
        limit = torch.tensor(amplitude_limit(dtype), dtype=dtype)
        assert math.isfinite(float(limit.square() * limit.square() * 8))


# ---------------------------------------------------------------------- physics
@FAST
@given(
    num_nodes=st.integers(1, 6),
    samples=st.integers(1, 3),
    position=st.integers(0, 100),
    bad=st.sampled_from(BAD_VALUES),
    function=st.sampled_from(["rate", "sinr", "interference", "budget"]),
)
def test_physics_refuses_bad_power_anywhere(num_nodes, samples, position, bad, function):
    gain = torch.rand(num_nodes, num_nodes, samples, dtype=torch.float64)
    direct, edge_index, edge_gain = physics.dense_to_edges(gain)
    power = _poison((num_nodes, samples), position, bad)
    with pytest.raises(
        ValueError, match=f"power must hold finite values >= 0, got {_message(bad)}"
    ):
        if function == "rate":
            physics.rate(power, direct, edge_index, edge_gain)
        elif function == "sinr":
            physics.sinr(power, direct, edge_index, edge_gain)
        elif function == "interference":
            physics.interference_power(power, edge_index, edge_gain)
        else:
            physics.power_budget_slack(power, 1.0)


@FAST
@given(
    num_nodes=st.integers(1, 5),
    samples=st.integers(1, 3),
    position=st.integers(0, 100),
    bad=st.sampled_from(BAD_VALUES),
    which=st.sampled_from(["direct_gain", "edge_gain"]),
)
def test_physics_refuses_bad_gains_anywhere(num_nodes, samples, position, bad, which):
    gain = torch.rand(num_nodes, num_nodes, samples, dtype=torch.float64)
    direct, edge_index, edge_gain = physics.dense_to_edges(gain)
    poisoned = _poison(
        tuple((direct if which == "direct_gain" else edge_gain).shape), position, bad
    )
    args = {"direct_gain": direct, "edge_gain": edge_gain, which: poisoned}
    power = torch.ones(num_nodes, samples, dtype=torch.float64)
    with pytest.raises(ValueError, match=f"{which} must hold finite values in \\[0, "):
        physics.rate(power, args["direct_gain"], edge_index, args["edge_gain"])


@FAST
@given(
    num_nodes=st.integers(1, 6),
    samples=st.integers(1, 3),
    scale=st.floats(0.0, 1e3),
    noise=st.floats(1e-6, 1e3),
)
def test_physics_accepts_every_valid_input(num_nodes, samples, scale, noise):
    gain = torch.rand(num_nodes, num_nodes, samples, dtype=torch.float64)
    direct, edge_index, edge_gain = physics.dense_to_edges(gain)
    power = scale * torch.rand(num_nodes, samples, dtype=torch.float64)
    rates = physics.rate(power, direct, edge_index, edge_gain, noise)
    assert rates.shape == (num_nodes, samples)
    assert bool(torch.isfinite(rates).all()) and bool((rates >= 0).all())


def test_physics_names_shapes_indices_and_noise():
    power = torch.ones(3, dtype=torch.float64)
    with pytest.raises(
        ValueError, match=r"power must be a floating tensor of shape \[N, \*S\], got torch.int64"
    ):
        physics.rate(torch.ones(3, dtype=torch.long), DIRECT, EDGE_INDEX, EDGE_GAIN)
    with pytest.raises(ValueError, match="power must have shape"):
        physics.rate(torch.tensor(1.0), DIRECT, EDGE_INDEX, EDGE_GAIN)
    with pytest.raises(
        ValueError, match=r"direct_gain must have shape \[N\] or \[N, \*S\] with N = 3"
    ):
        physics.rate(power, DIRECT[:2], EDGE_INDEX, EDGE_GAIN)
    with pytest.raises(
        ValueError, match=r"edge_gain must have shape \[E\] or \[E, \*S\] with E = 9"
    ):
        physics.rate(power, DIRECT, EDGE_INDEX, EDGE_GAIN[:4])
    with pytest.raises(ValueError, match=r"edge_index must be an integer tensor of shape \[2, E\]"):
        physics.rate(power, DIRECT, EDGE_INDEX.double(), EDGE_GAIN)
    bad_index = EDGE_INDEX.clone()
    bad_index[0, 4] = 7
    with pytest.raises(ValueError, match=r"edge_index must hold values in \[0, 2\], got 7"):
        physics.rate(power, DIRECT, bad_index, EDGE_GAIN)
    with pytest.raises(ValueError, match="broadcast"):
        physics.rate(torch.ones(3, 2, dtype=torch.float64), DIRECT, EDGE_INDEX, torch.ones(9, 3))
    with pytest.raises(ValueError, match="num_nodes must equal power.size"):
        physics.interference_power(power, EDGE_INDEX, EDGE_GAIN, num_nodes=4)
    for noise in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="noise_power"):
            physics.rate(power, DIRECT, EDGE_INDEX, EDGE_GAIN, noise)
    with pytest.raises(
        ValueError, match=r"noise_power must hold finite values > 0, got 0\.0 at index \[1\]"
    ):
        physics.rate(power, DIRECT, EDGE_INDEX, EDGE_GAIN, torch.tensor([1.0, 0.0, 1.0]))


def test_physics_refuses_amplitudes_whose_square_overflows():
    limit = amplitude_limit(torch.float32)
    direct = torch.tensor([1.0, 2.0 * limit])  # float32: its square overflows a product
    edge_index = torch.tensor([[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="direct_gain must hold finite values in"):
        physics.rate(torch.ones(2), direct, edge_index, torch.ones(2))
    with pytest.raises(ValueError, match="gain must hold finite values in"):
        physics.dense_to_edges(torch.full((2, 2), 1e20))


def test_utilities_refuse_bad_values():
    rates = torch.rand(4, 2)
    batch = torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match="rates must hold finite values, got inf"):
        physics.sum_rate(torch.tensor([[1.0], [math.inf]]))
    with pytest.raises(ValueError, match=r"weight must hold finite values >= 0, got -1\.0"):
        physics.sum_rate(rates, weight=torch.tensor([1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"weight must have shape \[4\]"):
        physics.sum_rate(rates, weight=torch.ones(3))
    with pytest.raises(ValueError, match=r"batch must hold values in \[0, 1\], got 2"):
        physics.sum_rate(rates, torch.tensor([0, 0, 1, 2]), num_graphs=2)
    with pytest.raises(ValueError, match=r"batch must be a \[4\] integer tensor"):
        physics.sum_rate(rates, batch.double())
    with pytest.raises(ValueError, match="num_graphs"):
        physics.sum_rate(rates, batch, num_graphs=0)
    with pytest.raises(ValueError, match="avg_rates must hold finite values > -1e-09, got -0.5"):
        physics.proportional_fairness(torch.tensor([1.0, -0.5]))
    with pytest.raises(ValueError, match="eps"):
        physics.proportional_fairness(rates, eps=math.nan)
    with pytest.raises(ValueError, match="min_rate must be a finite number"):
        physics.min_rate_slack(rates, math.nan)
    with pytest.raises(ValueError, match="min_rate must hold finite values"):
        physics.min_rate_slack(rates, torch.tensor(math.inf))
    for budget in (math.nan, -1.0, torch.tensor([1.0, math.nan])):
        with pytest.raises(ValueError, match="p_max_total"):
            physics.power_budget_slack(rates, budget, batch, 2)


# ---------------------------------------------------------------------- episodes
@FAST
@given(
    position=st.integers(0, 1000),
    bad=st.sampled_from(BAD_VALUES),
    samples=st.sampled_from([(), (2,)]),
    slot=st.sampled_from([None, 0, -1]),
)
def test_episode_rates_refuse_bad_power_anywhere(position, bad, samples, slot):
    shape = (M, T, *samples) if slot is None else (M, *samples)
    power = _poison(shape, position, bad).float()
    with pytest.raises(
        ValueError, match=f"power must hold finite values >= 0, got {_message(bad)}"
    ):
        EPISODE.rates(power, slot=slot)


@FAST
@given(shape=st.lists(st.integers(1, 6), min_size=0, max_size=3).map(tuple))
def test_episode_rates_name_the_expected_shape(shape):
    power = torch.ones(shape)
    if len(shape) >= 2 and shape[:2] == (M, T):
        assert EPISODE.rates(power).shape == shape
        return
    with pytest.raises(
        ValueError, match=rf"power must have shape \[m, T\] or \[m, T, \*S\] with m = {M}, T = {T}"
    ):
        EPISODE.rates(power)


def test_episode_rates_refuse_bad_slot_and_dtype():
    with pytest.raises(ValueError, match=rf"slot must be in \[-{T}, {T}\), got {T}"):
        EPISODE.rates(torch.ones(M), slot=T)
    with pytest.raises(ValueError, match="slot must be an integer"):
        EPISODE.rates(torch.ones(M), slot=True)
    with pytest.raises(
        ValueError, match=rf"power must have shape \[m\] or \[m, \*S\] with m = {M}"
    ):
        EPISODE.rates(torch.ones(M + 1), slot=0)
    with pytest.raises(ValueError, match="power must be a floating tensor"):
        EPISODE.rates(torch.ones(M, T, dtype=torch.long))


def test_episode_construction_refuses_undefined_physics():
    gain = torch.rand(3, 3, 2)
    with pytest.raises(ValueError, match="noise_power must be > 0, got 0.0"):
        WirelessEpisode.from_dense(gain, noise_power=0.0)
    for name in ("noise_power", "max_power"):
        with pytest.raises(ValueError, match=f"{name} must be a finite number, got nan"):
            WirelessEpisode.from_dense(gain, **{name: math.nan})
    with pytest.raises(ValueError, match="noise_power must be >= 1.18e-38 in torch.float32"):
        WirelessEpisode.from_dense(gain, noise_power=1e-40)
    with pytest.raises(ValueError, match="gain must hold finite values in"):
        WirelessEpisode.from_dense(torch.full((3, 3, 2), math.nan))
    with pytest.raises(ValueError, match="gain must hold finite values in"):
        WirelessEpisode.from_dense(torch.full((3, 3, 2), 1e10))  # float32 overflow risk
    with pytest.raises(
        ValueError, match=r"x must hold finite values, got inf at index \[0, 1, 0\]"
    ):
        x = torch.ones(3, 2, 1)
        x[0, 1, 0] = math.inf
        WirelessEpisode.from_dense(gain, x=x)
    with pytest.raises(ValueError, match="link_weight must hold finite values >= 0"):
        WirelessEpisode.from_dense(gain, link_weight=torch.tensor([1.0, -1.0, 1.0]))


# ---------------------------------------------------------------------- baselines
@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0.0])
@pytest.mark.parametrize("name", ["max_power", "noise_power"])
def test_wmmse_refuses_bad_scalars(name, bad):
    with pytest.raises(ValueError, match=name):
        wmmse(DIRECT, EDGE_INDEX, EDGE_GAIN, **{name: bad})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(link_weight=torch.tensor([1.0, -1.0, 1.0])), "link_weight"),
        (dict(link_weight=torch.tensor([1.0, math.nan, 1.0])), "link_weight"),
        (dict(max_power=torch.tensor([1.0, math.inf, 1.0])), "max_power"),
        (dict(budget="cap", p_max_total=math.nan), "p_max_total"),
        (dict(budget="scale", p_max_total=torch.tensor([-1.0])), "p_max_total"),
        (dict(init=torch.tensor([1.0, math.nan, 1.0], dtype=torch.float64)), "init"),
    ],
)
def test_wmmse_refuses_bad_tensors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        wmmse(DIRECT, EDGE_INDEX, EDGE_GAIN, **kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0])
def test_wmmse_refuses_bad_gains(bad):
    with pytest.raises(ValueError, match="edge_gain"):
        wmmse(DIRECT, EDGE_INDEX, EDGE_GAIN.clone().fill_(bad))
    with pytest.raises(ValueError, match="direct_gain"):
        wmmse(DIRECT.clone().fill_(bad), EDGE_INDEX, EDGE_GAIN)


def test_baselines_refuse_overflowing_gains_instead_of_zero_power():
    direct = torch.tensor([7.6e19, 1.0, 2.0])  # a receiver within 1e-9 of its transmitter
    edge_index = torch.tensor([[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError, match=r"direct_gain must hold finite values in \[0, 2\.14"):
        wmmse(direct, edge_index, torch.ones(3))
    with pytest.raises(ValueError, match="direct_gain"):
        strongest(direct, torch.ones(3), 0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0.0, -2.0])
def test_simple_baselines_refuse_bad_max_power(bad):
    max_power = torch.tensor([1.0, bad, 1.0])
    for call in (
        lambda: equal_power(max_power, 3.0),
        lambda: random_full_power(max_power, 3.0),
        lambda: strongest(torch.ones(3), max_power, 0.5),
    ):
        with pytest.raises(ValueError, match="max_power"):
            call()
    with pytest.raises(ValueError, match="p_max_total"):
        equal_power(torch.ones(3), bad if bad != 0.0 else -1.0)


def test_exhaustive_refuses_zero_noise():
    with pytest.raises(ValueError, match="noise_power must be > 0"):
        exhaustive(DIRECT, EDGE_INDEX, EDGE_GAIN, torch.ones(3), noise_power=0.0)


# ---------------------------------------------------------------------- policies
def _with_states(channels: int) -> WirelessEpisode:
    episode = EPISODE.clone()
    episode.x = torch.ones(M, T, channels)
    return episode


@pytest.mark.parametrize(
    "model",
    [
        AggGNN(K=3, num_layers=2, kernel_size=2),
        SelectionGNN(num_layers=2, kernel_size=2),
        WCGCN(features=("state", "direct_gain")),
        GenericGNNPolicy(GCN(2, 4, num_layers=1, out_channels=1)),
    ],
    ids=lambda model: type(model).__name__,
)
def test_policies_name_the_state_feature_count(model):
    model.logits(EPISODE)
    with pytest.raises(
        ValueError, match=r"batch.x must have state_channels=1 state features .* got 3"
    ):
        model.logits(_with_states(3))
    poisoned = EPISODE.clone()
    poisoned.x = poisoned.x.clone()
    poisoned.x[2, 1, 0] = math.nan
    with pytest.raises(
        ValueError, match=r"batch.x must hold finite values, got nan at index \[2, 1, 0\]"
    ):
        model.logits(poisoned)
    negative = EPISODE.clone()
    negative.direct_gain = -negative.direct_gain
    with pytest.raises(ValueError, match="batch.direct_gain must hold finite values in"):
        model.logits(negative)


@pytest.mark.parametrize(
    "model", [AggGNN(K=3, num_layers=2, kernel_size=2), MLPPolicy(M, hidden_channels=(4,))]
)
def test_policies_name_missing_and_misshapen_fields(model):
    with pytest.raises(ValueError, match="batch must be a \\(batched\\) WirelessEpisode"):
        model.logits(Data(x=torch.ones(M, T, 1)))
    broken = EPISODE.clone()
    broken.edge_weight = broken.edge_weight[:, :-1]
    with pytest.raises(ValueError, match="batch.edge_weight must have shape"):
        model.logits(broken)
    broken = EPISODE.clone()
    broken.x = torch.ones(M, T)
    with pytest.raises(ValueError, match=r"batch.x must be a floating \[N, T, F\] tensor"):
        model.logits(broken)


# ---------------------------------------------------------------------- scenarios
@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: AdHoc(noise_power=0.0), "noise_power must be > 0"),
        (lambda: AdHoc(noise_power=-1.0), "noise_power must be > 0"),
        (lambda: AdHoc(noise_power=math.nan), "noise_power must be a finite number"),
        (lambda: AdHoc(noise_power=math.inf), "noise_power must be a finite number"),
        (lambda: AdHoc(p0=0.0), "p0 must be > 0"),
        (lambda: AdHoc(p0=math.nan), "p0 must be a finite number"),
        (lambda: AdHoc(p_max_total=-1.0), "p_max_total must be > 0"),
        (lambda: AdHoc(eta0=math.inf), "eta0 must be a finite number"),
        (lambda: AdHoc(fading_var=0.0), "fading_var must be > 0"),
        (lambda: AdHoc(min_distance=0.0), "min_distance must be > 0"),
        (lambda: Cellular(noise_power=0.0), "noise_power must be > 0"),
        (lambda: GaussianIC(snr_db=math.inf), "snr_db must be a finite number, got inf"),
        (lambda: GaussianIC(snr_db=-math.inf), "snr_db must be a finite number"),
        (lambda: GaussianIC(snr_db=math.nan), "snr_db must be a finite number"),
        (lambda: GaussianIC(snr_db=400.0), r"snr_db must be in \[-385\.3, 379\.3\]"),
        (lambda: GaussianIC(snr_db=-400.0), r"snr_db must be in \[-385\.3, 379\.3\]"),
        (lambda: GaussianIC(p0=-1.0), "p0 must be > 0"),
        (lambda: D2D(tx_power_dbm=math.nan), "tx_power_dbm must be a finite number"),
        (lambda: D2D(noise_dbm_per_hz=-math.inf), "noise_dbm_per_hz must be a finite number"),
        (lambda: D2D(antenna_gain_db=math.inf), "antenna_gain_db must be a finite number"),
        (lambda: D2D(shadowing_db=math.nan), "shadowing_db must be a finite number"),
        (lambda: ConstantState(math.nan), "value must be a finite number"),
    ],
)
def test_scenarios_refuse_undefined_physics_at_construction(build, name):
    with pytest.raises(ValueError, match=name):
        build()


def test_min_distance_keeps_float32_gains_finite():
    with pytest.raises(
        ValueError, match=r"min_distance must be >= 5\.73e-05 for pathloss_exponent=2\.2"
    ):
        AdHoc(min_distance=1e-9)
    with pytest.raises(
        ValueError, match=r"min_distance must be >= 0\.00465 for pathloss_exponent=4"
    ):
        AdHoc(pathloss_exponent=4.0)
    AdHoc(pathloss_exponent=4.0, min_distance=0.01)
    AdHoc(pathloss_exponent=3.0)  # the default min_distance 1e-3 suffices up to 3
    # A receiver 1e-10 from its transmitter is clamped to min_distance: finite physics.
    scenario = AdHoc(num_links=4)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))
    rx_pos = layout.rx_pos.clone()
    rx_pos[0] = layout.tx_pos[0] + 1e-10
    layout = scenario.pathloss_layout(layout.tx_pos, rx_pos, layout.receiver)
    episode = scenario.episode(3, seed=0, layout=layout)
    power = WMMSE(mode="centralized")(episode)
    rates = episode.rates(power)
    assert bool(torch.isfinite(rates).all())
    assert bool((power[0] > 0).all())  # the strong link transmits instead of being zeroed


def test_episode_refuses_a_layout_that_overflows_its_dtype():
    scenario = AdHoc(num_links=2)
    layout = scenario.sample_layout(torch.Generator().manual_seed(0))

    def with_gain(value: float) -> Layout:
        gain = layout.large_scale.clone().fill_(value)
        return Layout(
            *(getattr(layout, f) for f in ("tx_pos", "rx_pos", "receiver", "edge_index")),
            gain,
            layout.edge_pair,
        )

    with pytest.raises(ValueError, match="large_scale amplitudes must be finite and <= 2.15e"):
        scenario.episode(2, seed=0, layout=with_gain(1e20))
    scenario.episode(2, seed=0, layout=with_gain(100.0))
    with pytest.raises(ValueError, match="<= 8 in torch.float16"):
        scenario.episode(2, seed=0, layout=with_gain(100.0), dtype=torch.float16)
