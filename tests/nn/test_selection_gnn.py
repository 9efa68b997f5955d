import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader
from torch_geometric.nn import TAGConv

from pyg_aggnn.nn import PowerPolicy, SelectionGNN
from pyg_aggnn.wireless import AdHoc, RandomSubsets


def dense_shift(episode, t, compress="log", normalization="damped"):
    eta = float(episode.eta0) if float(episode.eta0) > 0 else 1.0
    S = episode.dense_shift(t).double().numpy()
    W = np.log1p(S / eta) if compress == "log" else S
    d = W.sum(axis=1, keepdims=True)
    if normalization == "damped":
        W = W / (1 + d)
    return torch.from_numpy(W)


def dense_reference(model, episode, t):
    """sum_k S^k X W_k + b per layer, ReLU between layers, with dense matrix powers."""
    S = dense_shift(episode, t, model.compress, model.normalization)
    direct = torch.log1p(episode.direct_gain[:, t].double() / float(episode.eta0))
    hidden = torch.stack([episode.x[:, t, 0].double(), direct], dim=1)
    for layer, conv in enumerate(model.convs):
        out = conv.bias.double().expand(hidden.size(0), -1).clone()
        power = torch.eye(S.size(0), dtype=torch.float64)
        for lin in conv.lins:
            out += power @ hidden @ lin.weight.double().T
            power = S @ power
        if model.norms is not None and layer < len(model.norms):  # evaluation statistics
            bn = model.norms[layer].module
            scale = bn.weight.double() / (bn.running_var.double() + bn.eps).sqrt()
            out = (out - bn.running_mean.double()) * scale + bn.bias.double()
        hidden = torch.relu(out) if layer < len(model.convs) - 1 else out
    return hidden[:, 0]


def test_reuses_tag_conv_and_repr():
    model = SelectionGNN.paper()
    assert isinstance(model, PowerPolicy)
    assert all(isinstance(conv, TAGConv) and not conv.normalize for conv in model.convs)
    assert [conv.K for conv in model.convs] == [9] * 10
    assert [conv.out_channels for conv in model.convs] == [1] * 10
    assert repr(model) == (
        "SelectionGNN(layers=10, kernel_size=[10, 10, 10, 10, 10, 10, 10, 10, 10, 10], "
        "features=['state', 'direct_gain'], normalization='damped')"
    )
    with pytest.raises(ValueError, match="hidden_channels must be an integer or a list of 2"):
        SelectionGNN(num_layers=3, hidden_channels=[4])


@pytest.mark.parametrize("normalization", ["damped", "none"])
def test_equals_dense_matrix_powers(normalization):
    torch.manual_seed(0)
    episode = AdHoc(12, activation=RandomSubsets(7)).episode(5, seed=1, dtype=torch.float64)
    model = SelectionGNN(3, [4, 2], [3, 4, 2], normalization=normalization).double()
    for conv in model.convs:
        torch.nn.init.normal_(conv.bias)
    out = model.logits(episode, all_slots=True)
    for t in range(5):
        torch.testing.assert_close(out[:, t], dense_reference(model, episode, t))
    torch.testing.assert_close(model.logits(episode), out[:, -1])


def _normalised_model_matches_the_dense_reference(**kwargs):
    """A batch-normalised model with random statistics, checked in evaluation against
    the dense reference; returns it and the episode."""
    torch.manual_seed(0)
    episode = AdHoc(12, activation=RandomSubsets(7)).episode(5, seed=1, dtype=torch.float64)
    model = SelectionGNN(3, [4, 2], [3, 4, 2], norm="batch_norm", **kwargs).double()
    for norm in model.norms:
        bn = norm.module
        for value in (bn.weight, bn.bias, bn.running_mean):
            torch.nn.init.normal_(value)
        bn.running_var.uniform_(0.5, 2.0)
    model.eval()
    out = model.logits(episode, all_slots=True)
    for t in range(5):
        torch.testing.assert_close(out[:, t], dense_reference(model, episode, t))
    return model, episode


def test_batch_norm_equals_dense_reference_and_centres_the_logits():
    model, episode = _normalised_model_matches_the_dense_reference()
    assert repr(model).endswith("normalization='damped', norm='batch_norm')")
    # training: every layer normalised over the nodes, so the logit's mean and spread
    # are the last layer's shift and scale whatever the weights
    model.train()
    last = model.norms[-1].module
    logits = model.logits(episode)
    torch.testing.assert_close(logits.mean(), last.bias[0].detach().double())
    torch.testing.assert_close(
        logits.std(unbiased=False), last.weight[0].detach().abs().double(), rtol=1e-4, atol=1e-6
    )
    with pytest.raises(ValueError, match="norm"):
        SelectionGNN(norm="layer_norm")


def test_free_logit_normalises_the_hidden_layers_only():
    model, episode = _normalised_model_matches_the_dense_reference(norm_logit=False)
    assert len(model.norms) == 2 and repr(model).endswith("norm='batch_norm', norm_logit=False)")
    # training: the logit's spread is no longer one learned scale, the last layer's
    # weights set it: doubling them doubles the logits around the bias
    model.train()
    logits = model.logits(episode)
    with torch.no_grad():
        for lin in model.convs[-1].lins:
            lin.weight *= 2
    bias = model.convs[-1].bias
    torch.testing.assert_close(model.logits(episode) - bias, 2 * (logits - bias))
    assert SelectionGNN(norm_logit=False).norms is None  # without norm: nothing to leave out
    with pytest.raises(ValueError, match="norm_logit must be a bool"):
        SelectionGNN(norm="batch_norm", norm_logit="no")


def test_decision_at_a_slot_uses_only_that_slot(truncate):
    episode = AdHoc(10).episode(6, seed=2, dtype=torch.float64)
    model = SelectionGNN(2, 3, 3).double()
    out = model.logits(episode, all_slots=True)
    for t in range(6):
        torch.testing.assert_close(model.logits(truncate(episode, t + 1)), out[:, t])


def test_batched_equals_unbatched_and_permutation_equivariance(permute):
    episodes = [AdHoc(m).episode(4, seed=m) for m in (7, 13)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    model = SelectionGNN(3, 2, 4)
    torch.testing.assert_close(
        model.logits(batch, all_slots=True),
        torch.cat([model.logits(e, all_slots=True) for e in episodes]),
    )
    perm = torch.randperm(13, generator=torch.Generator().manual_seed(0))
    out = model.logits(episodes[1], all_slots=True)
    torch.testing.assert_close(model.logits(permute(episodes[1], perm), all_slots=True), out[perm])


@pytest.mark.slow
def test_torch_compile_equals_eager():
    episode = AdHoc(15).episode(4, seed=0)
    model = SelectionGNN(2, 2, 3)
    compiled = torch.compile(model.logits)
    torch.testing.assert_close(compiled(episode), model.logits(episode))
