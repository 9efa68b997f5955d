import pytest
import torch

from pyg_aggnn.wireless import AdHoc, ConstantState, GivenState, PoissonArrivals


def test_constant_and_poisson_states():
    assert torch.equal(ConstantState(2.0).sample(3, 4), torch.full((3, 4, 1), 2.0))
    x = PoissonArrivals(3.0).sample(200, 50, torch.Generator().manual_seed(0), torch.float64)
    assert x.shape == (200, 50, 1)
    assert x.mean().item() == pytest.approx(3.0, abs=0.1)
    assert x.var().item() == pytest.approx(3.0, rel=0.1)


def test_given_state_in_an_episode():
    values = torch.arange(10.0).reshape(5, 2)
    ep = AdHoc(5, state=GivenState(values)).episode(3, seed=0)
    assert ep.x.shape == (5, 3, 2)
    assert torch.equal(ep.x[:, 2], values)


def test_bad_states():
    with pytest.raises(ValueError, match="rate"):
        PoissonArrivals(-1.0)
    with pytest.raises(ValueError, match="values"):
        GivenState(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match="values"):
        GivenState(torch.ones(3))
    with pytest.raises(ValueError, match="values"):
        AdHoc(4, state=GivenState(torch.ones(5, 1))).episode(2, seed=0)
