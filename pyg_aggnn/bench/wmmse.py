"""WMMSE speed next to a straightforward batched dense NumPy implementation."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import wmmse
from pyg_aggnn.bench.timing import measure
from pyg_aggnn.wireless import AdHoc, GaussianIC

__all__ = ["numpy_wmmse", "wmmse_reference_suite", "wmmse_scaling_suite"]

_NUMPY_MAX_LINKS = 2000


def numpy_wmmse(H: np.ndarray, p_max: float, noise: float, alpha: np.ndarray, num_iters: int):
    """Batched dense WMMSE written the usual way; ``H[b, i, j]`` = amplitude Tx j -> Rx i.

    The reference every speed-up is measured against: full power start, no budget.
    """
    _, m, _ = H.shape
    eye = np.eye(m)
    direct = np.sum(H * eye, axis=2)
    v = np.sqrt(p_max) * np.ones(H.shape[:2])
    for _ in range(num_iters):
        rx = H * v[:, None, :]  # h_ij v_j
        signal = np.sum(rx * eye, axis=2)  # h_ii v_i
        u = signal / (noise + np.sum(rx**2, axis=2))
        w = 1.0 / (1.0 - u * signal)
        den = np.sum(H**2 * (alpha * w * u**2)[:, :, None], axis=1)  # sum_j c_j h_ji^2
        v = np.clip(alpha * w * u * direct / den, 0.0, np.sqrt(p_max))
    return v**2


def _torch_wmmse(batch, num_iters: int, gain: torch.Tensor, num_graphs: int) -> torch.Tensor:
    return wmmse(
        batch.direct_gain[:, 0],
        batch.edge_index,
        gain,
        batch.max_power,
        batch.noise_power,
        batch.link_weight,
        num_iters=num_iters,
        batch=batch.batch,
        num_graphs=num_graphs,
    )


def wmmse_reference_suite(
    num_networks: int = 1000, num_links: int = 50, num_iters: int = 100, repeats: int = 5
) -> dict[str, Any]:
    """The issue's headline: WMMSE on ``num_networks`` Gaussian-IC networks, torch vs NumPy.

    Both run in float64 on the same channels; reports medians, the speed-up and the
    largest absolute difference of the powers.
    """
    gen = torch.Generator().manual_seed(0)
    scenario = GaussianIC(num_links=num_links, snr_db=0.0)
    episodes = [
        scenario.episode(1, generator=gen, dtype=torch.float64) for _ in range(num_networks)
    ]
    batch = next(iter(DataLoader(episodes, batch_size=num_networks)))
    H = np.stack([ep.dense_gain(0).numpy() for ep in episodes])
    alpha = np.ones(H.shape[:2])
    out: dict[str, Any] = {}

    def run_numpy() -> None:
        out["numpy"] = numpy_wmmse(H, scenario.p0, scenario.noise_power, alpha, num_iters)

    def run_torch() -> None:
        gain = batch.edge_gain[:, 0]
        out["torch"] = _torch_wmmse(batch, num_iters, gain, num_networks).reshape(H.shape[:2])

    ref = measure(run_numpy, repeats=repeats, warmup=1)
    ours = measure(run_torch, repeats=repeats, warmup=1)
    return {
        "suite": "wmmse_reference",
        "networks": num_networks,
        "links": num_links,
        "iterations": num_iters,
        "numpy_median_s": ref["median_s"],
        "torch_median_s": ours["median_s"],
        "speedup": ref["median_s"] / ours["median_s"],
        "max_abs_power_diff": float(np.max(np.abs(out["torch"].numpy() - out["numpy"]))),
    }


def wmmse_scaling_suite(sizes: list[int], hops: int = 10, repeats: int = 5) -> list[dict[str, Any]]:
    """Centralized (100 iterations) and distributed (``hops`` iterations) WMMSE vs size.

    One fixed-density ad-hoc network per size; the NumPy reference runs on the same
    (dense, zero-filled) channel where ``m <= 2000``.
    """
    rows = []
    for m in sizes:
        episode = AdHoc(m, reference_links=25).episode(1, seed=0, dtype=torch.float64)
        batch = next(iter(DataLoader([episode], batch_size=1)))
        for mode, iters, gain in (
            ("centralized", 100, batch.edge_gain[:, 0]),
            ("distributed", hops, batch.edge_weight[:, 0]),
        ):
            result: dict[str, Any] = {}

            def run(iters=iters, gain=gain, result=result, batch=batch) -> None:
                result["p"] = _torch_wmmse(batch, iters, gain, 1)

            stats = measure(run, repeats=repeats, warmup=1, max_seconds=20)
            row = {"suite": "wmmse_scaling", "mode": mode, "m": m, "iterations": iters, **stats}
            if m <= _NUMPY_MAX_LINKS:
                dense = torch.zeros(m, m, dtype=torch.float64)
                dense[batch.edge_index[1], batch.edge_index[0]] = gain
                dense.fill_diagonal_(0).add_(torch.diag(batch.direct_gain[:, 0]))
                H, alpha = dense.numpy()[None], np.ones((1, m))
                ref: dict[str, Any] = {}

                def run_ref(
                    H=H, alpha=alpha, iters=iters, ref=ref, p0=float(batch.max_power[0])
                ) -> None:
                    ref["p"] = numpy_wmmse(H, p0, 1.0, alpha, iters)

                ref_stats = measure(run_ref, repeats=repeats, warmup=1, max_seconds=20)
                row["numpy_median_s"] = ref_stats["median_s"]
                row["speedup"] = ref_stats["median_s"] / stats["median_s"]
                row["max_abs_power_diff"] = float(np.max(np.abs(result["p"].numpy() - ref["p"][0])))
            rows.append(row)
    return rows
