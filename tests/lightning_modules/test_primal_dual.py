import itertools
import math

import pytest
import torch
from torch_geometric.data import Batch

from lightning_modules.duals import DualVariables
from lightning_modules.primal_dual import PrimalDualModule
from lightning_modules.problem import PowerProblem
from pyg_aggnn.nn import AggGNN
from pyg_aggnn.on_air import keyed_uniform


def _batch(*episodes):
    for index, episode in enumerate(episodes):
        episode.sample_id = torch.tensor([index])
    return Batch.from_data_list(list(episodes))


def _dense_rates(gain, power):
    """Independent reference: gain [m, m] amplitudes (row = victim), power [m]."""
    received = gain.square() * power[None, :]
    signal = received.diagonal()
    return torch.log1p(signal / (1.0 + received.sum(1) - signal))


def _exact_objective(policy, episode, lam, mu, warmup):
    """E[sum_{t >= warmup} lam^T f(t) - mu 1^T p(t)] by enumerating every action."""
    prob = torch.sigmoid(policy.logits(episode, all_slots=True))  # [m, T]
    m, num_slots = prob.shape
    active = episode.active
    decisions = active.nonzero().tolist()
    gains = [episode.dense_gain(t) for t in range(num_slots)]
    total = prob.new_zeros(())
    for bits in itertools.product((0.0, 1.0), repeat=len(decisions)):
        chance = prob.new_ones(())
        action = torch.zeros(m, num_slots, dtype=prob.dtype)
        for (i, s), bit in zip(decisions, bits):
            action[i, s] = bit
            chance = chance * (prob[i, s] if bit else 1 - prob[i, s])
        value = prob.new_zeros(())
        for t in range(warmup, num_slots):
            held = torch.zeros(m, dtype=prob.dtype)
            for i in range(m):
                past = [s for s in range(t + 1) if active[i, s]]
                held[i] = action[i, past[-1]] if past else 0.0
            power = 2.0 * held
            value = value + (lam * _dense_rates(gains[t], power)).sum() - mu * power.sum()
        total = total + chance * value
    return total


def _gradient(policy, value):
    policy.zero_grad()
    value.backward()
    return torch.cat([p.grad.reshape(-1).clone() for p in policy.parameters()])


def _module_with_duals(policy, lam, mu, warmup):
    """A module drawing 40,000 actions per episode, with the duals ``lam`` and ``mu``."""
    module = PrimalDualModule(
        policy, num_links=3, action_samples=40000, warmup_slots=warmup, seed=3
    ).double()
    module.duals.lam.copy_(lam)
    module.duals.mu_power.fill_(mu)
    return module


def _estimated_gradient(module, episode):
    """The ascent direction of the module's loss on ``episode`` (3 slots), per scored slot
    summed as the exact objective is."""
    loss, _ = module.primal_loss(_batch(episode))
    return -_gradient(module.policy, loss) * (3 - module.warmup_slots)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_model_free_gradient_is_unbiased_against_enumeration(
    tiny_policy, dense_episode, asynchronous
):
    active = None
    if asynchronous:
        active = torch.tensor([[True, False, True], [False, True, False], [True, True, False]])
    episode = dense_episode(m=3, num_slots=3, active=active)
    lam, mu, warmup = torch.tensor([0.7, 1.3, 0.9], dtype=torch.float64), 0.2, 1
    policy = tiny_policy(dtype=torch.float64)
    want = _gradient(policy, _exact_objective(policy, episode, lam, mu, warmup))
    module = _module_with_duals(policy, lam, mu, warmup)
    got = _estimated_gradient(module, episode)
    # Monte-Carlo error of 40000 draws: a few percent of the gradient's scale
    torch.testing.assert_close(got, want, atol=0.04 * want.abs().max(), rtol=0)


def _exact_feedback_objective(policy, episode, lam, mu, warmup):
    """The same by enumeration for a policy with feedback inputs: each action's
    probability depends on the powers that the actions before it put on the air.
    """
    m, num_slots = episode.active.shape
    active = episode.active
    decisions = active.nonzero().tolist()
    gains = [episode.dense_gain(t) for t in range(num_slots)]
    total = torch.zeros((), dtype=torch.float64)
    for bits in itertools.product((0.0, 1.0), repeat=len(decisions)):
        action = torch.zeros(m, num_slots, dtype=torch.float64)
        for (i, s), bit in zip(decisions, bits):
            action[i, s] = bit
        power = torch.zeros(m, num_slots, dtype=torch.float64)
        for t in range(num_slots):
            held = power[:, t - 1] if t else torch.zeros(m, dtype=torch.float64)
            power[:, t] = torch.where(active[:, t], 2.0 * action[:, t], held)
        prob = torch.sigmoid(policy.feedback_logits(episode, power[..., None])[..., 0])
        chance = torch.ones((), dtype=torch.float64)
        for (i, s), bit in zip(decisions, bits):
            chance = chance * (prob[i, s] if bit else 1 - prob[i, s])
        value = sum(
            (lam * _dense_rates(gains[t], power[:, t])).sum() - mu * power[:, t].sum()
            for t in range(warmup, num_slots)
        )
        total = total + chance * value
    return total


def test_feedback_gradient_is_unbiased_against_enumeration(dense_episode):
    active = torch.tensor([[True, False, True], [False, True, True], [True, True, False]])
    episode = dense_episode(m=3, num_slots=3, active=active)
    lam, mu, warmup = torch.tensor([0.7, 1.3, 0.9], dtype=torch.float64), 0.2, 1
    torch.manual_seed(1)
    policy = AggGNN(
        K=2,
        num_layers=1,
        hidden_channels=2,
        kernel_size=2,
        readout="linear",
        features=("direct_gain", "power", "interference"),
    ).double()
    with torch.no_grad():  # feedback that matters: the logits move with the powers
        policy.convs[0].weight.mul_(4.0)
    want = _gradient(policy, _exact_feedback_objective(policy, episode, lam, mu, warmup))
    module = _module_with_duals(policy, lam, mu, warmup)
    got = _estimated_gradient(module, episode)
    torch.testing.assert_close(got, want, atol=0.04 * want.abs().max(), rtol=0)
    # crediting each decision only with the slots it is held for misses its effect on
    # the later decisions it is fed back to
    module.feedback = False
    myopic = _estimated_gradient(module, episode)
    assert (myopic - want).abs().max() > 0.1 * want.abs().max()


@pytest.mark.parametrize(
    "power_map, squash",
    [
        ("sigmoid", torch.sigmoid),
        ("floor", torch.sigmoid),  # small logits: the sigmoid's slope is above the floor
        ("clip", lambda z: (0.5 + z / 4).clamp(0.0, 1.0)),
    ],
)
def test_model_based_loss_is_the_lagrangian_of_the_continuous_power(
    tiny_policy, dense_episode, power_map, squash
):
    episode = dense_episode(m=3, num_slots=4, seed=2)
    policy = tiny_policy(dtype=torch.float64)
    lam, mu = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64), 0.3
    module = PrimalDualModule(
        policy, mode="model_based", power_map=power_map, num_links=3, warmup_slots=1
    ).double()
    module.duals.lam.copy_(lam)
    module.duals.mu_power.fill_(mu)
    loss, observed = module.primal_loss(_batch(episode))
    logits = policy.logits(episode, all_slots=True)
    assert bool(((0.5 + logits / 4).abs() < 1).all())  # inside the clip: plain autograd applies
    power = 2.0 * squash(logits)
    value = sum(
        (lam * _dense_rates(episode.dense_gain(t), power[:, t])).sum() - mu * power[:, t].sum()
        for t in range(1, 4)
    )
    torch.testing.assert_close(loss, -value / 3)
    torch.testing.assert_close(_gradient(policy, loss), _gradient(policy, -value / 3))
    torch.testing.assert_close(observed.power[..., 0], power.detach())


def test_dual_step_uses_the_batch_means(tiny_policy, dense_episode):
    episodes = [dense_episode(m=3, num_slots=4, seed=s, p_max_total=2.0) for s in range(3)]
    batch = _batch(*episodes)
    problem = PowerProblem(min_rate=0.3)
    steps = dict(step_slack=0.1, step_lambda=0.2, step_mu=0.3, damping=0.5, warm_start=False)
    module = PrimalDualModule(
        tiny_policy(dtype=torch.float64), problem, num_links=3, action_samples=2, **steps
    ).double()
    reference = DualVariables(3, 1, **steps).double()
    _, observed = module.primal_loss(batch)
    module.dual_step(batch, observed)
    reward = observed.reward.reshape(3, 3, 4, 2)  # [graph, link, slot, sample]
    power = observed.power.reshape(3, 3, 4, 2)
    slack = (2.0 - power.sum(1)).mean()
    reference.step(problem, reward.mean((0, 2, 3)), slack, torch.ones(3, dtype=torch.float64))
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(module.duals.state_dict()[name], value)


def test_random_networks_normalise_per_link_with_scalar_duals(tiny_policy, dense_episode):
    small, large = dense_episode(m=2, seed=0), dense_episode(m=4, seed=1)
    large.link_weight = torch.tensor([1.0, 0.5, 0.0, 2.0], dtype=torch.float64)
    batch = _batch(small, large)
    steps = dict(step_slack=0.1, step_lambda=0.2, step_mu=0.3, damping=0.5, warm_start=False)
    module = PrimalDualModule(
        tiny_policy(dtype=torch.float64), network="random", action_samples=1, **steps
    ).double()
    assert module.duals.size == 1
    reference = DualVariables(1, **steps).double()
    _, observed = module.primal_loss(batch)
    module.dual_step(batch, observed)
    reward, power = observed.reward[..., 0], observed.power[..., 0]
    per_link = torch.stack(
        [reward[:2].mean(0), (large.link_weight[:, None] * reward[2:]).sum(0) / 4]
    )  # [graph, slot]
    slack = torch.stack([(4.0 - power[:2].sum(0)) / 2, (8.0 - power[2:].sum(0)) / 4])
    reference.step(PowerProblem(), per_link.mean().reshape(1), slack.mean())
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(module.duals.state_dict()[name], value)


def test_fixed_network_rejects_other_sizes(tiny_policy, dense_episode):
    module = PrimalDualModule(tiny_policy(dtype=torch.float64), num_links=3).double()
    with pytest.raises(ValueError, match="num_links=3"):
        module.primal_loss(_batch(dense_episode(m=3), dense_episode(m=2)))


def test_action_draws_are_keyed_by_step_and_sample_id(tiny_policy, dense_episode):
    module = PrimalDualModule(tiny_policy(dtype=torch.float64), num_links=3).double()
    batch = _batch(dense_episode(seed=0), dense_episode(seed=1))
    draws = keyed_uniform(batch, 2, module.seed, stream=4, step=5)
    assert draws.shape == (6, 3, 2)
    assert torch.equal(draws, keyed_uniform(batch, 2, module.seed, stream=4, step=5))
    assert not torch.equal(draws, keyed_uniform(batch, 2, module.seed, stream=4, step=6))
    swapped = batch.clone()
    swapped.sample_id = torch.tensor([1, 0])
    moved = keyed_uniform(swapped, 2, module.seed, stream=4, step=5)
    assert torch.equal(moved[:3], draws[3:]) and torch.equal(moved[3:], draws[:3])
    # the same episode drawn in another batch gets the same actions
    alone = _batch(dense_episode(seed=1))
    alone.sample_id = torch.tensor([1])
    assert torch.equal(keyed_uniform(alone, 2, module.seed, stream=4, step=5), draws[3:])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "greedy"}, "mode must be one of"),
        ({"network": "ring"}, "network must be one of"),
        ({"action_samples": 0}, "action_samples must be an integer >= 1"),
        ({"warmup_slots": -1}, "warmup_slots must be an integer >= 0"),
        ({"lr": -1.0}, "lr must be >= 0"),
    ],
)
def test_bad_arguments_name_the_argument(tiny_policy, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PrimalDualModule(tiny_policy(), **kwargs)


def test_entropy_is_reported(tiny_policy, dense_episode):
    module = PrimalDualModule(tiny_policy(dtype=torch.float64), num_links=3).double()
    _, observed = module.primal_loss(_batch(dense_episode()))
    assert 0 < float(observed.entropy) <= math.log(2) + 1e-12


def test_continuous_actions_are_held_while_inactive(tiny_policy, dense_episode):
    active = torch.tensor(
        [[True, False, False, True], [False, True, False, False], [False, False, False, True]]
    )
    episode = dense_episode(m=3, num_slots=4, active=active)
    module = PrimalDualModule(
        tiny_policy(dtype=torch.float64), num_links=3, distribution="truncated_normal"
    ).double()
    power, logits, action, source = module.allocate(_batch(episode), samples=3)
    assert power.shape == action.shape == (3, 4, 3)
    assert bool(((action > 0) & (action < 1)).all())  # continuous fractions, not on/off
    want = torch.zeros_like(power)
    for i, t in itertools.product(range(3), range(4)):
        past = [s for s in range(t + 1) if active[i, s]]
        if past:
            want[i, t] = 2.0 * action[i, past[-1]]
    assert torch.equal(power, want)
    # the same keys give the same continuous draws
    assert torch.equal(module.allocate(_batch(episode), samples=3)[0], power)


def test_continuous_policy_trains_its_scale(tiny_policy, dense_episode):
    batch = _batch(*(dense_episode(m=3, num_slots=4, seed=s, p_max_total=2.0) for s in range(2)))
    module = PrimalDualModule(
        tiny_policy(dtype=torch.float64),
        num_links=3,
        distribution="truncated_normal",
        init_scale=0.5,
        entropy_weight=0.01,
    ).double()
    optimizer = module.configure_optimizers()
    start = module.log_scale.detach().clone()
    torch.testing.assert_close(start.exp(), torch.tensor(0.5, dtype=torch.float64))
    for step in range(5):
        loss, observed = module.primal_loss(batch, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        module.dual_step(batch, observed)
        assert torch.isfinite(loss) and torch.isfinite(observed.entropy)
    assert not torch.equal(module.log_scale.detach(), start)
    assert "log_scale" in module.state_dict()
    assert "log_scale" not in PrimalDualModule(tiny_policy(), num_links=3).state_dict()


def test_distribution_is_selectable_from_the_command_line(tmp_path, monkeypatch):
    from lightning_modules.cli import AggGNNCLI

    monkeypatch.setattr("sys.argv", ["pyg-aggnn"])
    args = ["--model.distribution", "truncated_normal", "--model.init_scale", "0.2"]
    args += ["--trainer.default_root_dir", str(tmp_path), "--data.val_size", "4"]
    cli = AggGNNCLI(args=[*args, "--data.test_size", "4"], run=False)
    assert cli.model.distribution == "truncated_normal"
    torch.testing.assert_close(float(cli.model.log_scale.detach().exp()), 0.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"distribution": "gamma"}, "distribution must be one of .* got 'gamma'"),
        (
            {"distribution": "truncated_normal", "mode": "model_based"},
            "distribution must be 'bernoulli' with mode='model_based'",
        ),
        ({"distribution": "truncated_normal", "init_scale": 0.0}, "init_scale must be > 0"),
    ],
)
def test_bad_distribution_names_it(tiny_policy, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PrimalDualModule(tiny_policy(), **kwargs)


def test_the_mode_acts_on_the_sign_of_the_logit_and_holds(tiny_policy, dense_episode):
    active = torch.tensor(
        [[True, False, True, False], [False, True, True, True], [False, False, False, True]]
    )
    batch = _batch(dense_episode(m=3, num_slots=4, active=active))
    module = PrimalDualModule(tiny_policy(dtype=torch.float64), num_links=3).double()
    with torch.no_grad():  # centre the logits: some of each sign
        middle = module.policy.logits(batch, all_slots=True).median()
        module.policy.net[-1].bias.sub_(middle + 1e-3)
    power, logits, action, source = module.allocate(batch, samples=3, decision="mode")
    assert bool((logits > 0).any()) and bool((logits < 0).any())
    want = torch.zeros(3, 4, dtype=torch.float64)
    for i, t in itertools.product(range(3), range(4)):
        past = [s for s in range(t + 1) if active[i, s]]
        if past:
            want[i, t] = 2.0 * float(logits[i, past[-1]] > 0)
    for s in range(3):  # every sample takes the mode: no draws, whatever the seed
        assert torch.equal(power[..., s], want)
    module.seed = 7
    assert torch.equal(module.allocate(batch, decision="mode").power[..., 0], want)
    with pytest.raises(ValueError, match="decision must be one of"):
        module.allocate(batch, decision="greedy")


def test_evaluation_logs_the_mode_beside_the_draws(tiny_policy, dense_episode):
    episodes = [dense_episode(m=3, num_slots=3, seed=s, p_max_total=3.0) for s in range(2)]
    batch = _batch(*episodes)
    module = PrimalDualModule(tiny_policy(dtype=torch.float64), num_links=3).double()
    logged = {}
    module.log_dict = lambda values, **kwargs: logged.update(values)
    module.validation_step(batch, 0)
    logits = module.policy.logits(batch, all_slots=True).detach()
    power = 2.0 * (logits > 0).double()  # every node active: nothing held
    rate = torch.stack(
        [
            torch.stack(
                [_dense_rates(e.dense_gain(t), power[3 * b : 3 * b + 3, t]) for t in range(3)]
            )
            for b, e in enumerate(episodes)
        ]
    )  # [B, T, m]
    torch.testing.assert_close(logged["val/mode_sum_rate"], rate.sum(-1).mean())
    total = power.reshape(2, 3, 3).sum(1).mean(1)  # [B] mean total power over the slots
    torch.testing.assert_close(logged["val/mode_violation"], (total / 3.0 - 1.0).mean())
    assert not torch.equal(logged["val/mode_sum_rate"], logged["val/sum_rate"])
