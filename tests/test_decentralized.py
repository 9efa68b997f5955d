import numpy as np
import pytest
import torch

from pyg_aggnn.decentralized import AggregationProtocol, Node, hold_last_active
from pyg_aggnn.nn import AggGNN, DelayedDiffusion
from pyg_aggnn.wireless import AdHoc, Cellular, GivenSubsets, PeriodicClocks, RandomSubsets

TOL = {"rtol": 1e-12, "atol": 1e-12}


ACTIVITY = {
    "synchronous": None,
    "random subsets": RandomSubsets(12, num_subsets=5),
    "periodic clocks": PeriodicClocks(period=3),
    "given subsets": GivenSubsets([[0, 1, 2, 3, 4], list(range(10, 30)), [7]]),
}


@pytest.mark.parametrize("activity", list(ACTIVITY))
def test_protocol_equals_batched_layer_and_closed_form(activity, dense_sequences):
    scenario = AdHoc(30, activation=ACTIVITY[activity])
    episode = scenario.episode(12, seed=4, dtype=torch.float64)
    protocol = AggregationProtocol(K=6, features=("state", "direct_gain"))
    trace = protocol.run(episode)
    model = AggGNN(K=6, num_layers=1).double()
    features = model.input_features(episode)
    layer = DelayedDiffusion(6)(
        features, episode.edge_index, episode.edge_weight, episode.eta0, all_slots=True
    )
    torch.testing.assert_close(trace.sequences, layer, **TOL)
    torch.testing.assert_close(trace.sequences, dense_sequences(episode, 6, x=features), **TOL)


@pytest.mark.parametrize("activity", ["synchronous", "random subsets", "periodic clocks"])
def test_agg_gnn_decisions_equal_the_protocol(activity):
    episode = AdHoc(25, activation=ACTIVITY[activity]).episode(14, seed=7, dtype=torch.float64)
    torch.manual_seed(0)
    model = AggGNN(K=5, num_layers=3, hidden_channels=3, kernel_size=4).double()
    trace = AggregationProtocol.from_model(model).run(episode)
    with torch.no_grad():
        logits = model.logits(episode, all_slots=True)
        last = model.logits(episode)
    active = episode.active
    torch.testing.assert_close(trace.logits[active], logits[active], **TOL)
    assert bool(trace.logits[~active].isnan().all())
    torch.testing.assert_close(trace.prob, hold_last_active(torch.sigmoid(logits), active), **TOL)
    power = hold_last_active(episode.max_power[:, None] * torch.sigmoid(logits), active)
    torch.testing.assert_close(trace.power, power, **TOL)
    decided = active[:, -1]
    torch.testing.assert_close(trace.logits[decided, -1], last[decided], **TOL)


def test_inactive_nodes_hold_their_power_and_start_silent():
    episode = AdHoc(12, activation=PeriodicClocks(period=4)).episode(
        10, seed=1, dtype=torch.float64
    )
    trace = AggregationProtocol.from_model(AggGNN(K=4, num_layers=2).double()).run(episode)
    for i in range(12):
        for t in range(10):
            if episode.active[i, t]:
                continue
            before = trace.power[i, t - 1] if t > 0 else 0.0
            assert float(trace.power[i, t]) == float(before)
    never = ~episode.active.cumsum(dim=1).bool()
    assert bool((trace.power[never] == 0).all())


def test_message_counts():
    episode = Cellular(3, 6, activation=RandomSubsets(8)).episode(9, seed=2, dtype=torch.float64)
    K, F = 4, 2
    trace = AggregationProtocol(K=K, features=("state", "direct_gain")).run(episode)
    for t in range(9):
        S = episode.dense_shift(t)  # S[i, j] > 0: receiver i keeps sender j's message
        listeners = ((S > 0) & ~torch.eye(18, dtype=torch.bool)).sum(dim=0)
        assert torch.equal(trace.messages[:, t], listeners)
    assert torch.equal(trace.numbers, trace.messages * (K - 1) * F)
    assert bool((trace.messages[~episode.active] == 0).all())
    assert int(trace.messages.sum()) > 0
    quiet = AggregationProtocol(K=1).run(episode)
    assert int(quiet.numbers.sum()) == 0


def test_node_owns_its_buffer_and_sends_a_copy():
    node = Node(0, K=3, num_features=1, dtype=torch.float64)
    node.observe(torch.tensor([2.0], dtype=torch.float64))
    node.aggregate([], reference=1.0, compress="log", normalization="damped")
    payload = node.message()
    assert payload.shape == (2, 1) and float(payload[0, 0]) == 2.0
    payload += 5.0
    assert float(node.sequence[0, 0]) == 2.0
    # two heard senders with gains e - 1 and e^2 - 1: weights 1 and 2, scale 1 / (1 + 3)
    received = [
        (3, float(np.e**2 - 1), torch.tensor([[1.0], [0.0]], dtype=torch.float64)),
        (1, float(np.e - 1), torch.tensor([[4.0], [0.0]], dtype=torch.float64)),
    ]
    node.observe(torch.tensor([0.5], dtype=torch.float64))
    node.aggregate(received, reference=1.0, compress="log", normalization="damped")
    expected = torch.tensor([[0.5], [(1 * 4.0 + 2 * 1.0) / 4], [0.0]], dtype=torch.float64)
    torch.testing.assert_close(node.sequence, expected)


def test_hold_last_active_against_a_loop():
    gen = torch.Generator().manual_seed(0)
    values = torch.rand(6, 9, generator=gen)
    active = torch.rand(6, 9, generator=gen) < 0.4
    held = hold_last_active(values, active, initial=-1.0)
    for i in range(6):
        current = -1.0
        for t in range(9):
            if active[i, t]:
                current = float(values[i, t])
            assert float(held[i, t]) == current
