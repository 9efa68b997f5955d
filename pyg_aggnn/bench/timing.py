"""Timing and machine description shared by every benchmark."""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "measure",
    "machine_info",
    "peak_rss_mb",
    "peak_memory_mb",
    "synchronize",
    "keep_freed_memory",
]


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels on ``device`` (a no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    fn: Callable[[], Any],
    repeats: int = 10,
    warmup: int = 2,
    device: torch.device | str = "cpu",
    max_seconds: float | None = None,
) -> dict[str, float]:
    """Run ``fn`` ``warmup`` times untimed, then time up to ``repeats`` calls.

    Stops early once ``max_seconds`` of timed calls have passed (at least 3 are kept).

    Returns:
        ``{"median_s", "min_s", "max_s", "iqr_s", "repeats"}``.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    samples: list[float] = []
    spent = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        samples.append(time.perf_counter() - start)
        spent += samples[-1]
        if max_seconds is not None and spent > max_seconds and len(samples) >= 3:
            break
    quartiles = statistics.quantiles(samples, n=4) if len(samples) >= 2 else samples * 3
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "iqr_s": quartiles[2] - quartiles[0],
        "repeats": len(samples),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Reads ``VmHWM`` from ``/proc/self/status`` where it exists: unlike ``ru_maxrss``, it
    starts afresh in a new program rather than inheriting the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(device: str) -> float:
    """Peak memory so far, in MiB: CUDA's allocator peak on a CUDA ``device``, else the
    process's peak resident memory (:func:`peak_rss_mb`).
    """
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mb()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cuda": None,
    }
    try:
        import torch_geometric

        info["torch_geometric"] = torch_geometric.__version__
    except ImportError:  # pragma: no cover - a hard dependency
        pass
    info["torch_scatter"] = _has_module("torch_scatter")
    if torch.cuda.is_available():
        info["cuda"] = torch.cuda.get_device_name(0)
    return info


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def keep_freed_memory() -> bool:
    """Make glibc serve all allocations from the heap and never trim it (``--heap``).

    Above ~32 MB per block glibc returns freed memory to the operating system, so every
    new temporary of a 10^6-link network pays its page faults again; a long-running
    server would use ``MALLOC_MMAP_MAX_=0`` or jemalloc instead.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 2**31 - 1))
