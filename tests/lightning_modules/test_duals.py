import numpy as np
import pytest
import torch

from lightning_modules.duals import PRICE_WINDOW, DualVariables, dual_metrics
from lightning_modules.problem import PowerProblem


def _reference_step(r, lam, mu_u, mu_p, f, p_slack, alpha, c_min, eps_r, eps_l, eps_m, pf=False):
    """The primal-dual updates written out with plain floats, one link at a time."""
    r_new, lam_new, mu_u_new = [], [], []
    for i in range(len(r)):
        grad_u0 = 1.0 / (r[i] + 1e-9) if pf else alpha[i]
        grad_u = mu_u[i] if c_min is not None else 0.0
        ri = r[i] + eps_r * (grad_u0 + grad_u - lam[i])
        r_new.append(ri)
        if c_min is not None:
            mu_u_new.append(max(0.0, mu_u[i] - eps_m * (ri - c_min)))
        lam_new.append(max(0.0, lam[i] - eps_l * (f[i] - ri)))
    mu_p_new = max(0.0, mu_p - eps_m * p_slack)
    return r_new, lam_new, mu_u_new, mu_p_new


@pytest.mark.parametrize("pf", [False, True])
@pytest.mark.parametrize("c_min", [None, 0.8])
def test_step_follows_spec_against_scalar_reference(pf, c_min):
    problem = PowerProblem(utility="proportional_fairness" if pf else "sum_rate", min_rate=c_min)
    duals = DualVariables(
        size=3,
        num_rate_constraints=problem.num_rate_constraints,
        step_slack=0.1,
        step_lambda=0.2,
        step_mu=0.3,
        warm_start=False,
    ).double()
    duals.slack.copy_(torch.tensor([0.5, 1.0, 2.0]))
    duals.lam.copy_(torch.tensor([0.1, 1.5, 0.9]))
    duals.mu_power.fill_(0.05)
    if c_min is not None:
        duals.mu_rate.copy_(torch.tensor([0.0, 0.2, 0.4]))
    alpha = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)
    f = torch.tensor([0.7, 0.2, 3.0], dtype=torch.float64)
    p_slack = torch.tensor(0.4, dtype=torch.float64)
    want = _reference_step(
        duals.slack.tolist(),
        duals.lam.tolist(),
        duals.mu_rate.tolist(),
        0.05,
        f.tolist(),
        0.4,
        alpha.tolist(),
        c_min,
        0.1,
        0.2,
        0.3,
        pf=pf,
    )
    duals.step(problem, f, p_slack, alpha)
    torch.testing.assert_close(duals.slack, torch.tensor(want[0], dtype=torch.float64))
    torch.testing.assert_close(duals.lam, torch.tensor(want[1], dtype=torch.float64))
    torch.testing.assert_close(duals.mu_rate, torch.tensor(want[2], dtype=torch.float64))
    assert float(duals.mu_power) == pytest.approx(want[3])
    assert bool((duals.lam >= 0).all()) and bool((duals.mu_rate >= 0).all())


def test_power_dual_grows_when_budget_is_exceeded_and_is_projected():
    duals = DualVariables(size=2, step_mu=0.5, warm_start=False)
    problem = PowerProblem()
    duals.step(problem, torch.ones(2), torch.tensor(-1.0))
    assert float(duals.mu_power) == pytest.approx(0.5)
    duals.step(problem, torch.ones(2), torch.tensor(10.0))
    assert float(duals.mu_power) == 0.0
    no_budget = DualVariables(size=2, step_mu=0.5, warm_start=False)
    no_budget.step(PowerProblem(power_budget=False), torch.ones(2), torch.tensor(-1.0))
    assert float(no_budget.mu_power) == 0.0


def test_warm_start_puts_slack_and_lambda_at_the_fixed_point():
    duals = DualVariables(size=3)
    assert not bool(duals.initialized)
    f = torch.tensor([0.2, 0.4, 0.6])
    duals.step(PowerProblem(), f, torch.tensor(0.0), torch.tensor([1.0, 2.0, 0.5]))
    torch.testing.assert_close(duals.slack, f)
    torch.testing.assert_close(duals.lam, torch.tensor([1.0, 2.0, 0.5]))
    assert bool(duals.initialized)
    # at the fixed point with unchanged observations nothing moves
    duals.step(PowerProblem(), f, torch.tensor(0.0), torch.tensor([1.0, 2.0, 0.5]))
    torch.testing.assert_close(duals.slack, f)
    pf = DualVariables(size=2)
    pf.step(
        PowerProblem(utility="proportional_fairness"), torch.tensor([0.5, 2.0]), torch.tensor(0.0)
    )
    torch.testing.assert_close(pf.lam, torch.tensor([2.0, 0.5]), rtol=1e-6, atol=1e-6)


def test_unsized_duals_take_their_size_once_from_a_state_dict():
    source = DualVariables(size=5, num_rate_constraints=1, warm_start=False)
    source.step(PowerProblem(min_rate=0.1), torch.rand(5), torch.tensor(-2.0))
    target = DualVariables(num_rate_constraints=1)
    assert not target.sized
    target.load_state_dict(source.state_dict())
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value)
    assert target.size == 5
    target.materialize(5)  # the same size again: nothing changes
    with pytest.raises(ValueError, match="size must stay 5 once the duals are sized, got 3"):
        target.materialize(3)
    with pytest.raises(RuntimeError, match="size mismatch"):
        DualVariables(size=2, num_rate_constraints=1).load_state_dict(source.state_dict())


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="step_lambda must be >= 0"):
        DualVariables(step_lambda=-1.0)
    with pytest.raises(ValueError, match="size must be an integer >= 1"):
        DualVariables(size=0)
    assert "step_mu=0.0002" in repr(DualVariables())
    assert "damping=0.05" in repr(DualVariables())


def test_power_price_adds_a_proportional_term_to_the_dual():
    duals = DualVariables(size=1, step_mu=0.1, damping=0.5, warm_start=False)
    problem = PowerProblem()
    duals.step(problem, torch.ones(1), torch.tensor(-2.0))  # 2 over budget
    assert float(duals.mu_power) == pytest.approx(0.2)
    assert float(duals.power_price) == pytest.approx(0.2 + 0.5 * 2.0)
    duals.step(problem, torch.ones(1), torch.tensor(3.0))  # well under budget
    assert float(duals.mu_power) == 0.0 and float(duals.power_price) == 0.0
    plain = DualVariables(size=1, step_mu=0.1, damping=0.0, warm_start=False)
    plain.step(problem, torch.ones(1), torch.tensor(-2.0))
    assert float(plain.power_price) == float(plain.mu_power)


def test_the_oscillation_of_the_price_is_its_standard_deviation():
    rng = np.random.default_rng(0)
    slacks = rng.normal(0.0, 2.0, size=PRICE_WINDOW + 60)
    duals = DualVariables(size=1, step_mu=0.1, damping=0.5, warm_start=False)
    problem = PowerProblem()
    prices = []
    for n, slack in enumerate(slacks, start=1):
        duals.step(problem, torch.ones(1), torch.tensor(slack))
        prices.append(float(duals.power_price))
        if n <= PRICE_WINDOW:  # the standard deviation of every price so far
            assert float(duals.power_price_std) == pytest.approx(np.std(prices), rel=1e-4)
    # then it forgets: a price that settles takes the deviation towards zero
    for _ in range(10 * PRICE_WINDOW):
        duals.step(problem, torch.ones(1), torch.tensor(0.0))
    assert float(duals.power_price_std) < 0.01 * np.std(prices)  # (1 - 1 / 100) ** 500
    # a price that swings by +-a around its mean has a deviation of about a
    swinging = DualVariables(size=1, step_mu=0.0, damping=1.0, warm_start=False)
    for n in range(5 * PRICE_WINDOW):
        swinging.step(problem, torch.ones(1), torch.tensor(-1.0 if n % 4 < 2 else -3.0))
    assert float(swinging.power_price_std) == pytest.approx(1.0, rel=0.02)
    assert "power_price_std" in dual_metrics(swinging)
    # checkpointed; a state dict from before it was tracked loads, starting it afresh
    state = swinging.state_dict()
    assert torch.equal(state["price_moments"], swinging.price_moments)
    del state["price_moments"]
    restored = DualVariables(size=1)
    restored.load_state_dict(state)
    assert torch.equal(restored.price_moments, torch.zeros(3))
