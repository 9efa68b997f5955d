import hashlib
import json

import pytest
import torch

from pyg_aggnn.data.config import (
    SHORT_HASH_LENGTH,
    canonical_json,
    config_hash,
    object_from_config,
    scenario_from_config,
    scenario_to_config,
    short_hash,
)
from pyg_aggnn.wireless import (
    D2D,
    AdHoc,
    Cellular,
    GaussianIC,
    GivenState,
    GivenSubsets,
    PeriodicClocks,
    PoissonArrivals,
    RandomSubsets,
)

SCENARIOS = [
    AdHoc(8),
    AdHoc(8, reference_links=4, delta=0.7, p_max_total=3.0, link_weights="uniform"),
    AdHoc(6, activation=RandomSubsets(lam=2.5, num_subsets=3, subset_seed=7)),
    AdHoc(6, activation=PeriodicClocks(period=[1, 2, 3, 1, 2, 3], offset=[0, 1, 2, 0, 0, 1])),
    AdHoc(6, activation=GivenSubsets([[0, 1], [2, 3, 4]]), state=PoissonArrivals(rate=0.5)),
    AdHoc(3, state=GivenState(torch.tensor([[0.25], [1.5], [2.0]]))),
    Cellular(num_cells=2, users_per_cell=3, cell_radius=2.0),
    GaussianIC(num_links=5, snr_db=10.0),
    D2D(num_links=6, field_side_m=300.0),
]


def _episodes_equal(a, b):
    assert set(a.keys()) == set(b.keys())
    for key in a.keys():
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: type(s).__name__)
def test_round_trip_rebuilds_the_same_scenario(scenario):
    config = scenario_to_config(scenario)
    json.dumps(config)  # plain JSON
    rebuilt = scenario_from_config(config)
    assert type(rebuilt) is type(scenario)
    assert scenario_to_config(rebuilt) == config
    assert canonical_json(scenario_to_config(rebuilt)) == canonical_json(config)
    _episodes_equal(scenario.episode(4, seed=3), rebuilt.episode(4, seed=3))


def test_config_holds_resolved_init_args_only():
    config = scenario_to_config(AdHoc(25))
    assert config["class_path"] == "pyg_aggnn.wireless.AdHoc"
    args = config["init_args"]
    assert args["p_max_total"] == 25.0 and args["reference_links"] == 25
    assert args["activation"] == {"class_path": "pyg_aggnn.wireless.Synchronous", "init_args": {}}
    assert args["state"] == {
        "class_path": "pyg_aggnn.wireless.ConstantState",
        "init_args": {"value": 1.0},
    }
    cellular = scenario_to_config(Cellular(num_cells=2, users_per_cell=3))["init_args"]
    assert "num_links" not in cellular and cellular["half_width"] == 6.0
    gaussian = scenario_to_config(GaussianIC(4))["init_args"]
    assert "noise_power" not in gaussian and gaussian["snr_db"] == 0.0


def test_short_class_path_and_explicit_defaults_resolve_identically():
    short = scenario_to_config(
        scenario_from_config({"class_path": "AdHoc", "init_args": {"num_links": 9}})
    )
    explicit = scenario_to_config(
        scenario_from_config(
            {
                "class_path": "pyg_aggnn.wireless.adhoc.AdHoc",
                "init_args": {"num_links": 9, "reference_links": 9, "p_max_total": 9, "delta": 0.3},
            }
        )
    )
    assert short == explicit


@pytest.mark.parametrize(
    "config, message",
    [
        ({"class_path": "AdHoc", "init_args": {"num_linkz": 5}}, "unknown arguments ['num_linkz']"),
        ({"class_path": "os.system", "init_args": {}}, "subclass of Scenario"),
        ({"class_path": "torch.nn.Linear", "init_args": {}}, "subclass of Scenario"),
        ({"class_path": "NoSuchScenario"}, "subclass of Scenario"),
        ({"class_path": "AdHoc", "init_args": {"delta": 2.0}}, "delta must be in [0.0, 1.0]"),
        ({"class_path": "AdHoc", "init_args": {"num_links": 0}}, "num_links"),
        ({"class_path": "AdHoc", "init_args": {}, "extra": 1}, "unknown keys ['extra']"),
        ({"init_args": {}}, "class_path must be a non-empty string"),
        (
            {"class_path": "AdHoc", "init_args": {"activation": {"class_path": "AdHoc"}}},
            "subclass of Activation",
        ),
        (
            {"class_path": "AdHoc", "init_args": {"activation": {"class_path": "RandomSubsets"}}},
            "activation",
        ),
        ("AdHoc", "must be a mapping"),
    ],
)
def test_bad_configs_raise_naming_the_problem(config, message):
    with pytest.raises(ValueError) as info:
        scenario_from_config(config)
    assert message in str(info.value)


def test_nested_objects_only_from_allowed_families():
    with pytest.raises(ValueError, match="subclass of Activation or NodeState"):
        object_from_config({"class_path": "subprocess.Popen", "init_args": {"args": "true"}})
    clocks = object_from_config({"class_path": "PeriodicClocks", "init_args": {"period": 3}})
    assert isinstance(clocks, PeriodicClocks) and clocks.period == 3


def test_canonical_json_is_sorted_compact_and_order_independent():
    a = {"b": 1, "a": {"y": [1.5, 0.1 + 0.2], "x": None}, "c": "é"}
    b = {"c": "é", "a": {"x": None, "y": [1.5, 0.30000000000000004]}, "b": 1}
    text = canonical_json(a)
    assert text == '{"a":{"x":null,"y":[1.5,0.30000000000000004]},"b":1,"c":"\\u00e9"}'
    assert canonical_json(b) == text
    expected = hashlib.sha256(text.encode("ascii")).hexdigest()
    assert config_hash(a) == expected
    assert short_hash(a) == expected[:SHORT_HASH_LENGTH]
    assert config_hash({**a, "b": 2}) != expected


def test_non_finite_values_are_rejected():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    scenario = AdHoc(4)
    scenario.p0 = float("inf")
    with pytest.raises(ValueError, match="scenario.p0 must be finite"):
        scenario_to_config(scenario)


def test_scenario_without_stored_argument_is_reported():
    class Forgetful(AdHoc):
        def __init__(self, num_links=4, secret=1):
            super().__init__(num_links=num_links)

    with pytest.raises(ValueError, match="does not keep its argument 'secret'"):
        scenario_to_config(Forgetful())


def test_given_state_tensor_round_trip_is_idempotent():
    values = torch.tensor([[0.1], [0.2], [0.3]], dtype=torch.float32)
    config = scenario_to_config(AdHoc(3, state=GivenState(values)))
    again = scenario_to_config(scenario_from_config(config))
    assert canonical_json(again) == canonical_json(config)
