"""Decision latency of the GNN policies vs network size (fixed-density ad-hoc).

For every size ``m`` one ``AdHoc(m, reference_links=25)`` episode of ``--slots`` slots
is simulated, and each model decides for *all* links at the last slot
(``model.logits(episode)``, inference mode, after warm-up). The table gives the median
and the minimum over the repeats (on a machine shared with other jobs the minimum is the
better estimate of the cost, the median what a busy node sees) and the median process
CPU time (all threads, unaffected by time spent descheduled), the candidate edges
``E``, the edges of one slot's graph (``S(t) > 0``), edges per second (wall median) and
the growth of the CPU time relative to the growth of ``E`` from the previous size
(1.0 = linear). For the Agg-GNN a last column gives the median time of its sparse
products alone (:func:`sparse_products_seconds`: the shift operator of every slot the
delayed diffusion visits times a state of its width, on CSR matrices built beforehand),
and the decision's time as a multiple of it.

    pyg-aggnn bench model_latency                  # m = 1e3 .. 1e6 (minutes, ~8 GB)
    pyg-aggnn bench model_latency --max-m 100000   # stop earlier
    pyg-aggnn bench model_latency --threads 1 --models agg
    pyg-aggnn bench model_latency --heap          # glibc: keep freed memory

Above ~32 MB per tensor (m ~ 1e6) glibc hands every freed tensor back to the operating
system, so each new temporary pays page faults again; ``--heap`` asks glibc (through
``mallopt``) to serve everything from a heap it never trims, which is what a
long-running process with ``MALLOC_MMAP_MAX_=0`` or jemalloc/tcmalloc would see. On a
machine whose cores are shared with other jobs, run ``--threads 2`` with
``OMP_WAIT_POLICY=PASSIVE``: spinning OpenMP threads that wait for a descheduled partner
otherwise make every parallel operation several times slower than one thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from pyg_aggnn.bench.timing import keep_freed_memory
from pyg_aggnn.nn import WCGCN, AggGNN, SelectionGNN, shift
from pyg_aggnn.nn.delayed_diffusion import (
    _drop_unused_pairs,
    _edge_reference,
    _receiver_major,
)
from pyg_aggnn.wireless import AdHoc

MODELS = {
    "agg": ("AggGNN (sync preset)", AggGNN.synchronous),
    "selection": ("SelectionGNN (paper)", SelectionGNN.paper),
    "wcgcn": ("WCGCN (paper)", WCGCN.paper),
}


def time_model(model, episode, repeats: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``repeats`` decisions after ``warmup``."""
    wall, cpu = [], []
    with torch.inference_mode():
        for _ in range(warmup):
            model.logits(episode)
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            model.logits(episode)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def sparse_products_seconds(model: AggGNN, episode, repeats: int) -> float:
    """Median seconds of the Agg-GNN's sparse products alone in one decision: the
    products ``S(t) Z`` of the slots its delayed diffusion visits, with the inputs the
    diffusion receives in ``model.logits(episode)`` and states of the widths it uses
    (``lead + hops * F`` columns), on CSR matrices and outputs allocated beforehand.
    """
    diffusion, seen = model.diffusion, {}

    def capture(module, args, kwargs):
        seen["args"], seen["kwargs"] = args, kwargs

    handle = diffusion.register_forward_pre_hook(capture, with_kwargs=True)
    with torch.inference_mode():
        model.logits(episode)
    handle.remove()
    x, edge_index, edge_weight = seen["args"][:3]
    reference = seen["kwargs"].get("reference", seen["args"][3] if len(seen["args"]) > 3 else 1.0)
    num_nodes, num_slots, features = x.shape
    K, lead = diffusion.K, diffusion._lead
    start = max(0, num_slots - K)
    with torch.inference_mode():
        pairs, weight, ref = _drop_unused_pairs(
            edge_index, edge_weight[:, start:], _edge_reference(reference, x.dtype)
        )
        crow, col, weight, ref = _receiver_major(pairs, weight, ref, num_nodes)
        weight = diffusion._slot_weights(weight, ref, x.dtype)
        products = []
        for j in range(1, num_slots - start):  # slot j moves the hops of slot j - 1
            adjacency = shift.csr_adjacency(crow, col, weight[j], num_nodes)
            state = torch.rand(num_nodes, lead + min(j, K - 1) * features, dtype=x.dtype)
            products.append((adjacency, state, torch.empty_like(state)))
        times = []
        for _ in range(repeats + 1):
            begin = time.perf_counter()
            for adjacency, state, out in products:
                torch.addmm(out, adjacency, state, beta=0, out=out)
            times.append(time.perf_counter() - begin)
    return statistics.median(times[1:])


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``pyg-aggnn bench model_latency``."""
    parser = argparse.ArgumentParser(
        prog="pyg-aggnn bench model_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--max-m", type=int, default=1_000_000, help="skip larger sizes")
    parser.add_argument("--slots", type=int, default=10, help="episode length (>= K)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument(
        "--budget-s", type=float, default=3.0, help="time spent per model and size (repeats)"
    )
    parser.add_argument("--heap", action="store_true", help="glibc: never return memory")
    args = parser.parse_args(argv)
    heap = keep_freed_memory() if args.heap else False
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {key: MODELS[key][1]() for key in args.models}
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, slots={args.slots}, "
        f"allocator: {'glibc heap only' if heap else 'default'}"
    )
    header = f"{'model':<22}{'m':>9}{'E':>11}{'E_graph':>11}{'median ms':>12}{'min ms':>10}"
    header += f"{'cpu ms':>10}"
    header += (
        f"{'Medges/s':>10}{'scaling':>9}{'reps':>6}{'products ms':>13}{'decision/products':>19}"
    )
    print(header)
    previous: dict[str, tuple[float, int]] = {}
    for m in sorted(size for size in args.sizes if size <= args.max_m):
        start = time.perf_counter()
        episode = AdHoc(m, reference_links=25).episode(args.slots, seed=0)
        simulate_s = time.perf_counter() - start
        num_edges = episode.num_edges
        graph_edges = int((episode.edge_weight[:, -10:] > 0).sum()) // min(10, args.slots)
        for key, model in models.items():
            once = min(time_model(model, episode, repeats=3, warmup=1)[0])
            floor = 3 if once > 0.5 else 20
            repeats = max(floor, min(300, int(args.budget_s / max(once, 1e-6))))
            times, cpu = time_model(model, episode, repeats, warmup=min(5, repeats))
            median, median_cpu = statistics.median(times), statistics.median(cpu)
            scaling = ""
            if key in previous:
                last_cpu, last_edges = previous[key]
                scaling = f"{(median_cpu / last_cpu) / (num_edges / last_edges):.2f}"
            previous[key] = (median_cpu, num_edges)
            products = ""
            if isinstance(model, AggGNN):
                alone = sparse_products_seconds(model, episode, repeats)
                products = f"{alone * 1e3:>13.2f}{median / alone:>18.1f}x"
            print(
                f"{MODELS[key][0]:<22}{m:>9}{num_edges:>11}{graph_edges:>11}"
                f"{median * 1e3:>12.2f}{min(times) * 1e3:>10.2f}"
                f"{median_cpu * 1e3:>10.2f}"
                f"{num_edges / median / 1e6:>10.2f}{scaling:>9}{repeats:>6}{products}",
                flush=True,
            )
        print(f"{'':<22}(episode simulated in {simulate_s:.1f} s)", flush=True)
        del episode


if __name__ == "__main__":
    main()
