import pytest
import torch

from pyg_aggnn.data.seeding import derive_seed, keyed_generator


def test_derive_seed_is_deterministic_and_order_sensitive():
    assert derive_seed(0, 1, 2) == derive_seed(0, 1, 2)
    assert derive_seed(0, 1, 2) != derive_seed(0, 2, 1)
    assert derive_seed(0, 1) != derive_seed(0, 1, 0)
    assert derive_seed(2**32, 5) != derive_seed(0, 1 + 5 * 2**32)
    assert 0 <= derive_seed(5) < 2**63


def test_keyed_generator_streams():
    a = torch.rand(4, generator=keyed_generator(3, 4))
    b = torch.rand(4, generator=keyed_generator(3, 4))
    c = torch.rand(4, generator=keyed_generator(3, 5))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("key", [-1, 2**64, 1.5, True, "a"])
def test_derive_seed_rejects_bad_keys(key):
    with pytest.raises(ValueError, match="keys must be non-negative integers"):
        derive_seed(0, key)
