"""Feedback inputs: the powers on the air at the previous slot, and the slot-by-slot rollout."""

import pytest
import torch
from torch_geometric.data import Batch

from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.decentralized import AggregationProtocol
from pyg_aggnn.nn import AggGNN, SelectionGNN, features
from pyg_aggnn.nn.power_map import continuous_power
from pyg_aggnn.on_air import allocate, keyed_uniform
from pyg_aggnn.wireless import AdHoc, RandomSubsets

FED = ("state", "direct_gain", "power", "interference")


def _batch(num_links=6, num_slots=7, seeds=(0, 1)):
    scenario = AdHoc(num_links, activation=RandomSubsets(num_links / 2))
    episodes = [scenario.episode(num_slots, seed=s, dtype=torch.float64) for s in seeds]
    for index, episode in enumerate(episodes):
        episode.sample_id = torch.tensor([index])
    return Batch.from_data_list(episodes)


def _policy(**kwargs):
    torch.manual_seed(0)
    args = dict(K=3, num_layers=2, hidden_channels=3, kernel_size=3, readout="linear")
    return AggGNN(**{**args, **kwargs, "features": FED}).double()


def test_feedback_features_against_dense_reference():
    batch = _batch()
    num_links, num_slots = batch.direct_gain.shape
    power = torch.rand(num_links, num_slots, 2, dtype=torch.float64)
    out = features.sample_features(batch, FED, power)
    assert out.shape == (num_links, num_slots, 2, 4)
    src, dst = batch.edge_index
    for t in range(num_slots):
        for s in range(2):
            if t == 0:  # nothing is known before the first slot
                assert torch.equal(out[:, 0, s, 2:], torch.zeros(num_links, 2, dtype=out.dtype))
                continue
            gain = torch.zeros(num_links, num_links, dtype=torch.float64)
            gain[dst, src] = batch.edge_gain[:, t - 1]  # dense [victim, sender]
            gain.fill_diagonal_(0.0)
            interference = gain.square() @ power[:, t - 1, s]
            want = torch.log1p(interference / batch.noise_power)
            torch.testing.assert_close(out[:, t, s, 3], want)
            torch.testing.assert_close(out[:, t, s, 2], power[:, t - 1, s] / batch.max_power)
    # the other inputs are the link's own, the same for every sample
    torch.testing.assert_close(out[:, :, 1, :2], features.node_features(batch, FED[:2]))
    # node_features reads the batch's powers in force (zero without them)
    batch.feedback_power = power[..., 1]
    torch.testing.assert_close(features.node_features(batch, FED), out[:, :, 1])


@pytest.mark.parametrize("reverse", [False, True])
def test_a_slot_reads_only_the_powers_before_it(reverse):
    batch, policy = _batch(), _policy(reverse=reverse)
    power = torch.rand(*batch.direct_gain.shape, 3, dtype=torch.float64)
    full = policy.feedback_logits(batch, power)
    for t in range(power.size(1)):
        changed = power.clone()
        changed[:, t:] = torch.rand_like(changed[:, t:])
        torch.testing.assert_close(policy.feedback_logits(batch, changed, slot=t), full[:, t])
    changed = power.clone()
    changed[:, 2] += 0.5
    assert not torch.allclose(policy.feedback_logits(batch, changed)[:, 3], full[:, 3])
    # one sample's logits are those of the plain forward pass with its powers
    batch.feedback_power = power[..., 2]
    torch.testing.assert_close(policy.logits(batch, all_slots=True), full[..., 2])


def _reference_rollout(policy, batch, uniform):
    """Slot by slot through the plain forward pass, ``batch.feedback_power`` set."""
    num_links, num_slots = batch.direct_gain.shape
    power = torch.zeros(num_links, num_slots, dtype=torch.float64)
    for t in range(num_slots):
        batch.feedback_power = power.clone()
        prob = torch.sigmoid(policy.logits(batch, all_slots=True)[:, t])
        fresh = batch.max_power * (uniform[:, t] < prob).double()
        held = power[:, t - 1] if t else torch.zeros_like(fresh)
        power[:, t] = torch.where(batch.active[:, t], fresh, held)
    del batch.feedback_power
    return power


def test_rollout_decides_from_the_powers_in_force_and_holds():
    batch, policy = _batch(), _policy()
    with torch.no_grad():
        on_air = allocate(policy, batch, seed=4, samples=3)
    assert on_air.power.shape == on_air.action.shape == on_air.logits.shape == (12, 7, 3)
    uniform = keyed_uniform(batch, 3, 4, Stream.EVAL_ACTIONS, 0)
    for s in range(3):
        with torch.no_grad():
            want = _reference_rollout(policy, batch, uniform[..., s])
        torch.testing.assert_close(on_air.power[..., s], want)
    # actions are drawn at every slot; the power is the last awake slot's, silent before
    first = on_air.source
    held = on_air.action.gather(1, first.clamp_min(0)[..., None].expand(-1, -1, 3))
    held = held * (first >= 0)[..., None] * batch.max_power[:, None, None]
    torch.testing.assert_close(on_air.power, held)
    # samples differ where their draws did, and a seed gives the same numbers again
    assert not torch.equal(on_air.power[..., 0], on_air.power[..., 1])
    with torch.no_grad():
        assert torch.equal(allocate(policy, batch, seed=4, samples=3).power, on_air.power)
    one = allocate(policy, batch, seed=4, samples=1)
    assert one.logits.shape == (12, 7)


def test_model_based_rollout_holds_the_power_map():
    batch, policy = _batch(), _policy()
    on_air = allocate(policy, batch, mode="model_based")
    assert on_air.power.shape == (12, 7, 1) and on_air.action is None
    batch.feedback_power = on_air.power[..., 0].detach()
    logits = policy.logits(batch, all_slots=True)
    torch.testing.assert_close(on_air.logits, logits)
    fresh = continuous_power(logits, batch.max_power)
    source = on_air.source
    want = fresh.gather(1, source.clamp_min(0)) * (source >= 0)
    torch.testing.assert_close(on_air.power[..., 0], want)
    assert on_air.power.requires_grad  # model-based training differentiates the powers


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: _policy(norm="batch_norm"), "norm must be None with the feedback features"),
        (lambda: SelectionGNN(features=("state", "power")), "features must be one of"),
        (
            lambda: AggregationProtocol.from_model(_policy()),
            "features must not hold the feedback features",
        ),
    ],
)
def test_unsupported_uses_name_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_feedback_flag():
    assert _policy().feedback
    assert not AggGNN(K=3, num_layers=1, hidden_channels=1, kernel_size=3).feedback


def test_the_protocol_refuses_leakage_and_the_reverse_aggregation():
    model = AggGNN(K=3, num_layers=1, hidden_channels=1, kernel_size=3, features=("leakage",))
    with pytest.raises(ValueError, match="features must not hold 'leakage'"):
        AggregationProtocol.from_model(model)
    reverse = AggGNN(K=3, num_layers=1, hidden_channels=1, kernel_size=3, reverse=True)
    with pytest.raises(ValueError, match="model.reverse must be False"):
        AggregationProtocol.from_model(reverse)


def test_mode_rollout_decides_on_the_sign_of_the_logit():
    batch, policy = _batch(), _policy()
    with torch.no_grad():
        policy.lin.bias.add_(0.5)  # logits of both signs
        on_air = allocate(policy, batch, seed=4, samples=2, decision="mode")
        # a uniform of 1/2 draws "on" exactly where sigma(z) > 1/2: the mode
        want = _reference_rollout(policy, batch, torch.full((12, 7), 0.5, dtype=torch.float64))
    for s in range(2):
        torch.testing.assert_close(on_air.power[..., s], want)
    assert bool((want > 0).any()) and bool((want == 0).any())
