import pytest
import torch
from torch_geometric.data import Batch

from pyg_aggnn.nn import MLPPolicy, SelectionGNN, recalibrate_batch_norm
from pyg_aggnn.nn.norm_statistics import batch_norm_layers
from pyg_aggnn.wireless import GaussianIC


def _batches(count=3, size=4, m=5, seed=0):
    scenario = GaussianIC(num_links=m)
    episodes = [scenario.episode(2, seed=seed + k) for k in range(count * size)]
    return [Batch.from_data_list(episodes[k * size : (k + 1) * size]) for k in range(count)]


def _inputs_of(layer, policy, batches):
    """What ``layer`` receives in training mode for every batch (a forward hook)."""
    seen = []
    handle = layer.register_forward_hook(lambda module, inp, out: seen.append(inp[0].clone()))
    policy.train()
    with torch.no_grad():
        for batch in batches:
            policy.logits(batch, all_slots=True)
    handle.remove()
    return seen


def test_statistics_are_the_equal_weight_average_of_the_batches():
    torch.manual_seed(0)
    policy = MLPPolicy(5, hidden_channels=[6, 4])
    batches = _batches()
    layers = batch_norm_layers(policy)
    assert len(layers) == 2
    expected = []
    for layer in layers:
        inputs = _inputs_of(layer, policy, batches)
        means = torch.stack([x.mean(0) for x in inputs]).mean(0)
        variances = torch.stack([x.var(0, unbiased=True) for x in inputs]).mean(0)
        expected.append((means, variances))
    weights = {k: v.clone() for k, v in policy.named_parameters()}
    policy.eval()
    assert recalibrate_batch_norm(policy, batches) == 3
    assert not policy.training  # its mode is restored
    for layer, (mean, var) in zip(layers, expected):
        torch.testing.assert_close(layer.running_mean, mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(layer.running_var, var, rtol=1e-5, atol=1e-6)
        assert layer.momentum == 0.1 and int(layer.num_batches_tracked) == 3
    for key, value in policy.named_parameters():
        assert torch.equal(value, weights[key]), key


def test_evaluation_then_matches_training_mode_on_one_large_batch():
    # one batch: its statistics are the population's, and evaluation reproduces the
    # training-mode logits up to the unbiased variance of BatchNorm's running estimate
    torch.manual_seed(1)
    policy = SelectionGNN(num_layers=2, hidden_channels=3, kernel_size=2, norm="batch_norm")
    (batch,) = _batches(count=1, size=64)
    policy.train()
    with torch.no_grad():
        training = policy.logits(batch, all_slots=True)
    recalibrate_batch_norm(policy, [batch])
    policy.eval()
    with torch.no_grad():
        evaluation = policy.logits(batch, all_slots=True)
    torch.testing.assert_close(evaluation, training, rtol=2e-2, atol=2e-2)


def test_no_layer_or_no_batch_changes_nothing():
    torch.manual_seed(0)
    plain = MLPPolicy(5, hidden_channels=[4], norm=None)
    assert recalibrate_batch_norm(plain, _batches()) == 0
    policy = MLPPolicy(5, hidden_channels=[4])
    recalibrate_batch_norm(policy, _batches())
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    assert recalibrate_batch_norm(policy, []) == 0
    for key, value in policy.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_momentum_is_restored_after_an_error(momentum):
    policy = MLPPolicy(5, hidden_channels=[4])
    for layer in batch_norm_layers(policy):
        layer.momentum = momentum

    def broken():
        yield _batches(count=1)[0]
        raise RuntimeError("loader failed")

    with pytest.raises(RuntimeError, match="loader failed"):
        recalibrate_batch_norm(policy, broken())
    assert all(layer.momentum == momentum for layer in batch_norm_layers(policy))
