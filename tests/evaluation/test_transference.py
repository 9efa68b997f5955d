import math

import pytest
import torch

from pyg_aggnn.evaluation.transference import (
    at_size,
    transfer_settings,
    with_activity,
    with_delta,
    with_hops,
)
from pyg_aggnn.nn import AggGNN, SelectionGNN
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC, RandomSubsets, Synchronous


def test_adhoc_keeps_the_training_density_and_receiver_offsets():
    bigger = at_size(AdHoc(25), 400)
    assert bigger.num_links == 400 and bigger.reference_links == 25
    assert bigger.half_width == pytest.approx(math.sqrt(25 * 400))
    assert bigger.p_max_total == 400  # the budget per link is kept
    density = 400 / (2 * bigger.half_width) ** 2
    assert density == pytest.approx(25 / (2 * AdHoc(25).half_width) ** 2)
    layout = bigger.sample_layout(torch.Generator().manual_seed(0))
    offset = (layout.rx_pos - layout.tx_pos).abs().max()
    assert offset <= 25 / 4
    assert at_size(bigger, 25).half_width == pytest.approx(25)


def test_other_scenarios_grow_at_fixed_density():
    d2d = at_size(D2D(50), 200)
    assert d2d.field_side_m == pytest.approx(2000) and d2d.num_links == 200
    cells = at_size(Cellular(num_cells=5, users_per_cell=10), 200)
    assert cells.num_cells == 20 and cells.num_links == 200
    assert cells.half_width == pytest.approx(50 * 2)
    assert at_size(GaussianIC(10, snr_db=10), 30).noise_power == pytest.approx(0.1)
    with pytest.raises(ValueError, match="users_per_cell"):
        at_size(Cellular(num_cells=5, users_per_cell=10), 55)


def test_delta_and_activity_change_only_what_they_say():
    base = AdHoc(25, p0=3.0)
    changed = with_delta(base, 0.7)
    assert changed.delta == 0.7 and changed.p0 == 3.0 and changed.num_links == 25
    asynchronous = with_activity(base, 12)
    assert isinstance(asynchronous.activation, RandomSubsets) and asynchronous.activation.lam == 12
    assert isinstance(with_activity(asynchronous, 0).activation, Synchronous)
    with pytest.raises(ValueError, match="delta"):
        with_delta(base, 1.5)


def test_hops_change_a_copy_and_keep_the_weights():
    policy = AggGNN(K=4, num_layers=2, hidden_channels=2, kernel_size=3, readout="last")
    longer = with_hops(policy, 7)
    assert longer.K == 7 and longer.diffusion.K == 7 and policy.K == 4
    for a, b in zip(policy.parameters(), longer.parameters()):
        assert torch.equal(a, b)
    episode = AdHoc(6).episode(9, seed=0)
    assert longer.logits(episode).shape == (6,)
    # with one hop the policy only sees its own node: other nodes' states do not matter
    local = with_hops(policy, 1)
    changed = episode.clone()
    changed.x = changed.x.clone()
    changed.x[1:] += 5.0
    assert torch.allclose(local.logits(episode)[0], local.logits(changed)[0])
    with pytest.raises(ValueError, match="readout"):
        with_hops(AggGNN(K=4, readout="linear"), 5)
    with pytest.raises(ValueError, match="aggregation policy"):
        with_hops(SelectionGNN(num_layers=2), 3)


def test_settings_of_every_mode():
    base = AdHoc(25)
    assert [s[0] for s in transfer_settings("same-size", base)] == ["m=25"]
    sizes = transfer_settings("scale", base, [50, 100])
    assert [s[1].num_links for s in sizes] == [50, 100]
    assert [s[0] for s in transfer_settings("async", base, [0, 12])] == ["sync", "lam=12"]
    hops = transfer_settings("hops", base, [1, 3])
    assert [(label, K) for label, _, K in hops] == [("K=1", 1), ("K=3", 3)]
    with pytest.raises(ValueError, match="values"):
        transfer_settings("delta", base, [])
    with pytest.raises(ValueError, match="mode"):
        transfer_settings("bigger", base, [1])
