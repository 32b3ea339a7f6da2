"""What a benchmark ran on, for the headers of its report (``scripts/bench_*.py``), and its timer.

A speed figure is only comparable with another measured on the same CPU: NumPy dispatches its
float32 ``exp``/``log`` loops to AVX-512 where the CPU has it while XLA's generated code gains less,
so a change of VM moved every JAX/NumPy ratio (results/bench/throughput_runs/README.md). Every
benchmark names the CPU model and its widest vector extension, read from ``/proc/cpuinfo``.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def cpu_description(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name and its widest vector extension (``"Intel(R) Xeon(R) Processor, AVX-512"``),
    from the first CPU's block of ``cpuinfo``; ``""`` where the file cannot be read (not Linux)."""
    try:
        first_cpu = Path(cpuinfo).read_text().split("\n\n")[0]  # one block per logical CPU
    except OSError:
        return ""
    fields = {key.strip(): value.strip() for key, value in
              (line.split(":", 1) for line in first_cpu.splitlines() if ":" in line)}
    flags = fields.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else ""
    return ", ".join(x for x in (fields.get("model name", ""), isa) if x)


def load_average() -> float:
    """The 1-minute load average, as a benchmark header records it at start and end (a shared VM's other
    work shows there); ``nan`` where the platform has none (``os.getloadavg`` is Unix-only)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine_description() -> str:
    """``"2 CPU cores, x86_64, Intel(R) Xeon(R) Processor, AVX-512"``: cores, architecture and CPU."""
    return ", ".join(x for x in (f"{os.cpu_count()} CPU cores", platform.machine(), cpu_description()) if x)


def best_seconds(fn, repeats: int) -> float:
    """The shortest of ``repeats`` wall-clock timings of ``fn()``: on a shared machine the other
    work only ever adds time, so the best run is the least noisy."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
