import pytest
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.nn import AggGNN, DelayedDiffusion, PowerPolicy
from pyg_aggnn.wireless import AdHoc, GaussianIC, RandomSubsets


def reference_head(model: AggGNN, sequence: torch.Tensor) -> torch.Tensor:
    """The CNN written as explicit sums: v[n] = relu(b + sum_k alpha_k v_prev[n - k])."""
    hidden = sequence.transpose(1, 2)  # [n, C, K]
    length = hidden.size(2)
    for layer, (conv, taps) in enumerate(zip(model.convs, model.kernel_size)):
        out = torch.zeros(hidden.size(0), conv.out_channels, length, dtype=hidden.dtype)
        for pos in range(length):
            for lag in range(taps):
                if pos - lag >= 0:
                    alpha = conv.weight[:, :, taps - 1 - lag]  # [out, in]
                    out[:, :, pos] += hidden[:, :, pos - lag] @ alpha.T
        if conv.bias is not None:
            out += conv.bias[None, :, None]
        if model.norms is not None:  # evaluation: the running statistics, per feature
            out = _batch_norm(model.norms[layer].module, out.transpose(1, 2)).transpose(1, 2)
        last = layer == len(model.convs) - 1
        hidden = out if last and model.readout == "filter" else torch.relu(out)
    if model.readout == "filter":  # the unrectified last layer's last position
        logit = hidden[:, 0, -1]
        if model.norms is not None:
            logit = _batch_norm(model.norms[-1].module, logit[:, None])[:, 0]
        return logit
    if model.readout == "last":
        hidden = hidden[:, :, -1]
    elif model.readout == "mean":
        hidden = hidden.mean(dim=2)
    else:
        hidden = hidden.transpose(1, 2).flatten(1)  # position-major, as the model flattens
    logit = hidden @ model.lin.weight[0] + model.lin.bias[0]
    if model.norms is not None:
        logit = _batch_norm(model.norms[-1].module, logit[:, None])[:, 0]
    return logit


def _batch_norm(bn, value):
    """``(value - mean) / sqrt(var + eps) * weight + bias`` over the last dimension."""
    return (value - bn.running_mean) / (bn.running_var + bn.eps).sqrt() * bn.weight + bn.bias


def test_causal_matrix_equals_a_causal_conv1d():
    torch.manual_seed(3)
    model = AggGNN(K=7, num_layers=2, hidden_channels=[3, 2], kernel_size=[4, 9]).double()
    hidden = torch.randn(5, 7, 2, dtype=torch.float64)  # [n, K, F]
    for layer, conv in enumerate(model.convs):
        taps = model.kernel_size[layer]
        padded = torch.nn.functional.pad(hidden.transpose(1, 2), (taps - 1, 0))
        expected = torch.nn.functional.conv1d(padded, conv.weight).transpose(1, 2)
        out = hidden.reshape(5, -1) @ model.causal_matrix(layer)
        torch.testing.assert_close(out.view(5, 7, -1), expected)
        hidden = expected


def episode(m=20, slots=12, seed=0, asynchronous=False):
    activation = RandomSubsets(m // 2) if asynchronous else None
    return AdHoc(m, activation=activation).episode(slots, seed=seed, dtype=torch.float64)


def test_repr_and_presets():
    model = AggGNN.synchronous()
    assert isinstance(model, PowerPolicy)
    assert repr(model).startswith("AggGNN(K=10, layers=10, hidden_channels=[1, 1, 1")
    assert "readout='filter', features=['state', 'direct_gain'], normalization='damped')" in (
        repr(model)
    )
    assert model.lin is None and AggGNN.asynchronous().readout == "filter"
    paper = AggGNN.synchronous(features=["state"])
    assert sum(conv.weight.numel() for conv in paper.convs) == 100  # the papers' 100 weights
    asynchronous = AggGNN.asynchronous(features=["state"])
    assert asynchronous.K == 5 and asynchronous.kernel_size == [5] * 10
    assert sum(conv.weight.numel() for conv in asynchronous.convs) == 50
    assert AggGNN.synchronous(kernel_size=3).kernel_size == [3] * 10


def test_validation_messages():
    with pytest.raises(ValueError, match="hidden_channels must be an integer or a list of 3"):
        AggGNN(num_layers=3, hidden_channels=[4, 4])
    with pytest.raises(ValueError, match="readout must be one of"):
        AggGNN(readout="max")
    with pytest.raises(ValueError, match="features must be one of"):
        AggGNN(features=["state", "distance"])
    with pytest.raises(ValueError, match="features must not repeat"):
        AggGNN(features=["state", "state"])


@pytest.mark.parametrize("readout", ["last", "mean", "linear", "filter"])
def test_head_equals_explicit_convolution(readout):
    torch.manual_seed(0)
    last = 1 if readout == "filter" else 2
    model = AggGNN(
        K=6, num_layers=3, hidden_channels=[4, 3, last], kernel_size=[3, 6, 2], readout=readout
    ).double()
    for conv in model.convs:  # random signs, not just the near-identity start
        torch.nn.init.normal_(conv.weight)
        torch.nn.init.normal_(conv.bias)
    sequence = torch.randn(7, 6, 2, dtype=torch.float64)
    torch.testing.assert_close(model.head(sequence), reference_head(model, sequence))


def test_batch_norm_head_equals_explicit_convolution_and_centres_the_logits():
    torch.manual_seed(0)
    model = AggGNN(
        K=6,
        num_layers=3,
        hidden_channels=[4, 3, 2],
        kernel_size=[3, 6, 2],
        readout="linear",
        norm="batch_norm",
    ).double()
    assert repr(model).endswith("normalization='damped', norm='batch_norm')")
    for norm in model.norms:
        bn = norm.module
        for value in (bn.weight, bn.bias, bn.running_mean):
            torch.nn.init.normal_(value)
        bn.running_var.uniform_(0.5, 2.0)
    sequence = torch.randn(7, 6, 2, dtype=torch.float64)
    model.eval()
    torch.testing.assert_close(model.head(sequence), reference_head(model, sequence))
    # training: the logit's mean and spread over the nodes are the last norm's shift and
    # scale whatever the weights
    model.train()
    last = model.norms[-1].module
    last.eps = 1e-12  # (almost) no regulariser in the variance
    logits = model.head(sequence)
    torch.testing.assert_close(logits.mean(), last.bias[0].detach())
    torch.testing.assert_close(
        logits.std(unbiased=False), last.weight[0].detach().abs(), rtol=1e-4, atol=1e-6
    )
    with pytest.raises(ValueError, match="norm"):
        AggGNN(norm="group_norm")


def test_logits_are_head_of_delayed_diffusion_sequences():
    data = episode()
    model = AggGNN(K=7, num_layers=2, hidden_channels=3, kernel_size=4).double()
    features = model.input_features(data)
    direct = torch.log1p(data.direct_gain / data.eta0)
    torch.testing.assert_close(features, torch.stack([data.x[..., 0], direct], dim=-1))
    sequence = DelayedDiffusion(7)(features, data.edge_index, data.edge_weight, data.eta0)
    torch.testing.assert_close(model.logits(data), reference_head(model, sequence))
    probability = model(data)
    torch.testing.assert_close(probability, torch.sigmoid(model.logits(data)))


@pytest.mark.parametrize("asynchronous", [False, True])
def test_all_slots_last_column_is_the_decision(asynchronous):
    data = episode(asynchronous=asynchronous)
    model = AggGNN.asynchronous().double()
    all_slots = model.logits(data, all_slots=True)
    assert all_slots.shape == (20, 12)
    torch.testing.assert_close(all_slots[:, -1], model.logits(data))


def test_batched_equals_unbatched():
    episodes = [AdHoc(m).episode(11, seed=m) for m in (6, 15, 9)]
    batch = next(iter(DataLoader(episodes, batch_size=3)))
    model = AggGNN(K=5, num_layers=2, hidden_channels=4, kernel_size=3)
    torch.testing.assert_close(model.logits(batch), torch.cat([model.logits(e) for e in episodes]))
    torch.testing.assert_close(
        model.logits(batch, all_slots=True),
        torch.cat([model.logits(e, all_slots=True) for e in episodes]),
    )


def test_batch_of_networks_with_different_thresholds():
    episodes = [AdHoc(8, eta0=0.01).episode(6, seed=0), GaussianIC(5).episode(6, seed=1)]
    batch = next(iter(DataLoader(episodes, batch_size=2)))
    model = AggGNN(K=4, num_layers=2, hidden_channels=2, kernel_size=3)
    torch.testing.assert_close(
        model.logits(batch, all_slots=True),
        torch.cat([model.logits(e, all_slots=True) for e in episodes]),
    )


def test_permutation_equivariance(permute):
    data = episode(m=18, asynchronous=True)
    perm = torch.randperm(18, generator=torch.Generator().manual_seed(0))
    model = AggGNN(K=6, num_layers=3, hidden_channels=2, kernel_size=4).double()
    out = model.logits(data, all_slots=True)
    torch.testing.assert_close(model.logits(permute(data, perm), all_slots=True), out[perm])


def test_not_dead_at_initialisation_and_gradients_reach_every_weight():
    data = AdHoc(50).episode(10, seed=0)
    for seed in range(5):
        torch.manual_seed(seed)
        model = AggGNN.synchronous()
        logits = model.logits(data)
        assert float(logits.detach().std()) > 0, f"constant policy at init (seed {seed})"
        logits.sum().backward()
        for name, parameter in model.named_parameters():
            assert parameter.grad is not None and float(parameter.grad.abs().sum()) > 0, name


def test_gain_scale_replaces_the_threshold():
    data = episode()
    model = AggGNN(K=4, num_layers=1, gain_scale=0.5).double()
    features = model.input_features(data)
    torch.testing.assert_close(features[..., 1], torch.log1p(data.direct_gain / 0.5))


@pytest.mark.slow
def test_torch_compile_equals_eager():
    data = AdHoc(20).episode(12, seed=0)
    model = AggGNN.asynchronous()
    compiled = torch.compile(model.logits)
    torch.testing.assert_close(compiled(data), model.logits(data))
    torch.testing.assert_close(compiled(data, all_slots=True), model.logits(data, all_slots=True))


def test_readout_bias_sets_the_starting_logit_and_survives_a_reset():
    default = AggGNN(K=3, num_layers=2, hidden_channels=2)
    torch.manual_seed(0)
    low = AggGNN(K=3, num_layers=2, hidden_channels=2, readout_bias=-2.0)
    assert low.lin.bias.item() == -2.0
    low.lin.bias.data.fill_(5.0)
    low.reset_parameters()
    assert low.lin.bias.item() == -2.0
    torch.manual_seed(0)
    again = AggGNN(K=3, num_layers=2, hidden_channels=2)  # None: PyTorch's initialisation
    torch.manual_seed(0)
    assert torch.equal(again.lin.weight, AggGNN(K=3, num_layers=2, hidden_channels=2).lin.weight)
    assert default.readout_bias is None
    with pytest.raises(ValueError, match="readout_bias must be a finite number"):
        AggGNN(readout_bias=float("inf"))


def test_filter_readout_is_the_papers_final_layer():
    """``"filter"``: the last layer is the logit (no ReLU, no affine readout), so logits
    take either sign around its bias, where a rectified last layer read out by ``w v + b``
    (``w > 0``) never goes below ``b``: one on-probability floor for every link."""
    torch.manual_seed(0)
    ep = episode()
    paper = AggGNN(K=4, num_layers=3, kernel_size=4, readout="filter", readout_bias=-2.0).double()
    assert paper.lin is None and paper.convs[-1].bias.item() == -2.0
    assert sum(p.numel() for p in paper.parameters()) == 2 * 4 + 1 + 2 * (4 + 1)
    with torch.no_grad():
        for conv in paper.convs[:-1]:  # alive: positive filters on non-negative inputs
            conv.weight.copy_(torch.rand_like(conv.weight))
        paper.convs[-1].weight.copy_(torch.tensor([[[0.0, 0.0, 0.5, -1.0]]]))  # lag 0 last
    logits = paper.logits(ep, all_slots=True)
    assert bool((logits < -2.0).any())  # below the bias: links can be switched off surely
    rectified = AggGNN(K=4, num_layers=3, kernel_size=4, readout="last", readout_bias=-2.0).double()
    rectified.load_state_dict(paper.state_dict(), strict=False)
    with torch.no_grad():
        rectified.lin.weight.fill_(1.0)
    assert bool((rectified.logits(ep, all_slots=True) >= -2.0).all())
    # the filters slide along the hop axis, so the policy runs with another K
    assert paper.logits(ep).shape == (ep.num_nodes,)
    with pytest.raises(ValueError, match="hidden_channels must end in 1"):
        AggGNN(num_layers=2, hidden_channels=[4, 2], readout="filter")
    with pytest.raises(ValueError, match="bias must be True"):
        AggGNN(num_layers=2, readout="filter", readout_bias=-1.0, bias=False)


def test_the_layer_matrices_kept_between_decisions_follow_the_weights():
    torch.manual_seed(0)
    model = AggGNN(K=4, num_layers=2, hidden_channels=3, kernel_size=3).double()
    ep = episode()
    sequence = model.sequences(ep)
    with torch.no_grad():
        first = model.head(sequence)
        assert "_matrices_cache" in model.__dict__
        torch.testing.assert_close(first, reference_head(model, sequence))
        assert torch.equal(model.head(sequence), first)  # reused: the same numbers
    # an optimizer step changes the weights in place: the next decision sees them
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.head(sequence).sum().backward()
    optimizer.step()
    with torch.no_grad():
        moved = model.head(sequence)
        assert not torch.allclose(moved, first)
        torch.testing.assert_close(moved, reference_head(model, sequence))
        # and so does a loaded state dict
        other = AggGNN(K=4, num_layers=2, hidden_channels=3, kernel_size=3).double()
        model.load_state_dict(other.state_dict())
        torch.testing.assert_close(model.head(sequence), reference_head(other, sequence))


def test_reverse_aggregates_over_the_transposed_graphs_too(permute):
    data = episode(m=9, asynchronous=True)
    torch.manual_seed(0)
    model = AggGNN(K=4, num_layers=2, hidden_channels=3, kernel_size=3, reverse=True).double()
    assert model.in_channels == 4 and model.convs[0].in_channels == 4
    sequence = model.sequences(data, all_slots=True)  # [m, T, K, 2 F]
    inputs = model.input_features(data)
    # dense reference: every transmitter j hears the receivers i that hear it, weights
    # w_ij = log(1 + S_ij / eta0), scaled by 1 / (1 + sum_i w_ij)
    src, dst = data.edge_index
    eta0 = float(data.eta0)
    state = torch.zeros(9, 4, 2, dtype=torch.float64)
    for t in range(data.num_slots):
        w = torch.zeros(9, 9, dtype=torch.float64)
        w[dst, src] = torch.log1p(data.edge_weight[:, t] / eta0)
        heard = w.t()  # [transmitter, receiver]
        scale = 1.0 / (1.0 + heard.sum(1))
        new = torch.zeros_like(state)
        new[:, 0] = inputs[:, t]
        for k in range(1, 4):
            new[:, k] = (scale[:, None] * heard) @ state[:, k - 1]
        state = new
        torch.testing.assert_close(sequence[:, t, :, 2:], state)
    forward = AggGNN(K=4, num_layers=1, hidden_channels=1, kernel_size=3).double()
    torch.testing.assert_close(sequence[..., :2], forward.sequences(data, all_slots=True))
    torch.testing.assert_close(model.logits(data), reference_head(model, sequence[:, -1]))
    # still permutation equivariant
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(1))
    out = model.logits(data, all_slots=True)
    torch.testing.assert_close(model.logits(permute(data, perm), all_slots=True), out[perm])
    with pytest.raises(ValueError, match="reverse must be a bool"):
        AggGNN(reverse="yes")
