"""Fixtures shared by every test directory."""

import numpy as np
import pytest
import torch

from lightning_modules.lightning_notices import silence_lightning_notices


def pytest_configure(config):
    # the test run hears what the training commands hear: none of Lightning's own notices
    silence_lightning_notices()


def _dense_sequences(episode, K, compress="log", normalization="damped", x=None):
    """Closed form y^(k)(t) = S(t) ... S(t-k+1) x(t-k) with dense NumPy matrices.

    ``x`` defaults to the episode's node states; ``eta`` is its threshold (1 if 0).
    """
    eta = float(episode.eta0)
    eta = eta if eta > 0 else 1.0
    x = (episode.x if x is None else x).double().numpy()
    m, T, F = x.shape
    shifts = []
    for t in range(T):
        S = episode.dense_shift(t).double().numpy()
        W = np.log1p(S / eta) if compress == "log" else S
        d = W.sum(axis=1, keepdims=True)
        if normalization == "damped":
            W = W / (1.0 + d)
        elif normalization == "mean":
            W = np.divide(W, d, out=np.zeros_like(W), where=d > 0)
        shifts.append(W)
    out = np.zeros((m, T, K, F))
    for t in range(T):
        for k in range(min(K, t + 1)):
            y = x[:, t - k]
            for s in range(t - k + 1, t + 1):
                y = shifts[s] @ y
            out[:, t, k] = y
    return torch.from_numpy(out)


@pytest.fixture
def dense_sequences():
    """The delayed diffusion's closed form with dense matrices, an independent reference."""
    return _dense_sequences
