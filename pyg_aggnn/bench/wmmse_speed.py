"""WMMSE speed: pyg_aggnn's batched torch WMMSE next to batched dense NumPy references.

Runs 100 WMMSE iterations on 1,000 Gaussian-IC networks of K = 50 links with
three implementations on the same channels, in float64:

* ``numpy (straightforward)``: the usual batched research code, which forms
  ``[B, K, K]`` temporaries by broadcasting at every iteration;
* ``numpy (matmul)``: the same algorithm with the two interference sums as batched
  ``np.matmul`` products, a tuned NumPy for comparison;
* ``torch dense`` / ``torch sparse``: :func:`pyg_aggnn.baselines.wmmse` on the
  batched ``WirelessEpisode`` edge list, with its dense batched path (chosen
  automatically for these complete graphs) and its CSR path.

Prints the median wall time of each, the speed-up over the references, and the largest
absolute difference of the powers; then the roofline of the machine for the two batched
products of every iteration (each reads the ``B`` matrices of ``K x K`` float64 gains,
``2 K^2`` flops per network): their bytes over the read bandwidth measured on this
machine, from memory (a 512 MB tensor) and from the last-level cache (a tensor of the
dense path's block size, :data:`pyg_aggnn.baselines._operators._BLOCK_BYTES`, which
stays in the cache for all iterations), and their flops over the measured peak of a
float64 matrix product, next to the measured time. Usage::

    pyg-aggnn bench wmmse_speed [--num-networks 1000] [--num-links 50] [--repeats 5]
                                     [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch_geometric.loader import DataLoader

from pyg_aggnn.baselines import wmmse
from pyg_aggnn.baselines._operators import _BLOCK_BYTES
from pyg_aggnn.bench.wmmse import numpy_wmmse as numpy_straightforward
from pyg_aggnn.wireless import GaussianIC


def numpy_matmul(H, p_max, noise, alpha, num_iters):
    """The same iteration with batched matrix products instead of broadcasting."""
    B, m, _ = H.shape
    H2 = H**2
    H2t = np.ascontiguousarray(H2.transpose(0, 2, 1))
    direct = np.diagonal(H, axis1=1, axis2=2)
    v = np.sqrt(p_max) * np.ones((B, m))
    for _ in range(num_iters):
        received = noise + np.matmul((v**2)[:, None, :], H2t)[:, 0]
        u = direct * v / received
        w = 1.0 / (1.0 - u * direct * v)
        den = np.matmul((alpha * w * u**2)[:, None, :], H2)[:, 0]
        v = np.clip(alpha * w * u * direct / den, 0.0, np.sqrt(p_max))
    return v**2


def timed(functions, repeats):
    """Median wall time and last output of each function, run round-robin so that a
    change of load on a shared machine hits every implementation alike.
    """
    times = {name: [] for name in functions}
    outputs = {}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            outputs[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), outputs[name]) for name in functions}


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def roofline(B: int, m: int, iters: int, repeats: int = 5) -> dict[str, float]:
    """The products' bytes and flops, and the machine's bandwidths and peak (torch's
    current threads): seconds each bound allows for ``iters`` iterations.
    """
    products_bytes = 2 * B * m * m * 8 * iters  # two products read every matrix
    products_flops = 2 * 2 * B * m * m * iters
    memory = torch.rand(2**26, dtype=torch.float64)  # 512 MB
    memory_bw = memory.numel() * 8 / _median_seconds(memory.sum, repeats)
    del memory
    cached = torch.rand(_BLOCK_BYTES // 8, dtype=torch.float64)
    rounds = 50
    cache_bw = (
        rounds
        * cached.numel()
        * 8
        / _median_seconds(lambda: [cached.sum() for _ in range(rounds)], repeats)
    )
    a = torch.rand(1024, 1024, dtype=torch.float64)
    peak = 2 * 1024**3 / _median_seconds(lambda: a @ a, repeats)
    return {
        "bytes": products_bytes,
        "flops": products_flops,
        "memory_bw": memory_bw,
        "cache_bw": cache_bw,
        "peak": peak,
        "memory_s": products_bytes / memory_bw,
        "cache_s": products_bytes / cache_bw,
        "flops_s": products_flops / peak,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench wmmse_speed``."""
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench wmmse_speed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--num-networks", type=int, default=1000)
    parser.add_argument("--num-links", type=int, default=50)
    parser.add_argument("--num-iters", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--paths",
        default="auto,dense,sparse",
        help="comma-separated torch paths to time (default: auto,dense,sparse)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    B, m, iters = args.num_networks, args.num_links, args.num_iters

    gen = torch.Generator().manual_seed(args.seed)
    scenario = GaussianIC(num_links=m, snr_db=0.0)
    episodes = [scenario.episode(1, generator=gen, dtype=torch.float64) for _ in range(B)]
    batch = next(iter(DataLoader(episodes, batch_size=B)))
    H = np.stack([ep.dense_gain(0).numpy() for ep in episodes])  # [B, m, m]
    p_max, noise = scenario.p0, scenario.noise_power
    alpha = np.ones((B, m))

    def run_torch(path):
        return wmmse(
            batch.direct_gain[:, 0],
            batch.edge_index,
            batch.edge_gain[:, 0],
            batch.max_power,
            batch.noise_power,
            batch.link_weight,
            num_iters=args.num_iters,
            batch=batch.batch,
            num_graphs=B,
            path=path,
        ).reshape(B, m)

    print(
        f"WMMSE, {args.num_iters} iterations, {B} Gaussian-IC networks of K = {m} links, "
        f"float64, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"median of {args.repeats} round-robin runs"
    )
    functions = {
        "numpy (straightforward)": lambda: numpy_straightforward(H, p_max, noise, alpha, iters),
        "numpy (matmul)": lambda: numpy_matmul(H, p_max, noise, alpha, iters),
    }
    for path in args.paths.split(","):
        functions[f"torch {path}"] = lambda path=path: run_torch(path).numpy()
    measured = timed(functions, args.repeats)
    t_ref, p_ref = measured["numpy (straightforward)"]
    t_mm = measured["numpy (matmul)"][0]
    results = [(name, seconds, power) for name, (seconds, power) in measured.items()]

    width = max(len(name) for name, _, _ in results)
    print(f"{'':<{width}}  {'median s':>9}  {'vs straightforward':>18}  {'vs matmul':>9}  max|dp|")
    for name, seconds, power in results:
        diff = float(np.max(np.abs(power - p_ref)))
        print(
            f"{name:<{width}}  {seconds:9.3f}  {t_ref / seconds:17.1f}x  "
            f"{t_mm / seconds:8.1f}x  {diff:.1e}"
        )
    bound = roofline(B, m, iters)
    fastest = min(seconds for name, seconds, _ in results if name.startswith("torch"))
    print(
        f"roofline of the two products per iteration ({bound['bytes'] / 1e9:.1f} GB read, "
        f"{bound['flops'] / 1e9:.1f} GFLOP in {iters} iterations), "
        f"{torch.get_num_threads()} threads:"
    )
    for label, key, rate, unit in (
        ("memory bandwidth", "memory_s", bound["memory_bw"] / 1e9, "GB/s"),
        (
            f"cache bandwidth ({_BLOCK_BYTES >> 20} MB blocks)",
            "cache_s",
            bound["cache_bw"] / 1e9,
            "GB/s",
        ),
        ("float64 peak (1024^2 matmul)", "flops_s", bound["peak"] / 1e9, "GFLOP/s"),
    ):
        print(
            f"  {label:<34} {rate:8.1f} {unit:<8} -> {bound[key]:7.3f} s "
            f"(fastest torch path {fastest:.3f} s: {fastest / bound[key]:.1f}x that)"
        )


if __name__ == "__main__":
    main()
