"""studygym.machine: the CPU named in every benchmark header (scripts/bench_*.py)."""

import math
import os
from pathlib import Path

from studygym.machine import cpu_description, load_average, machine_description

# Two logical CPUs in /proc/cpuinfo's format (a block per CPU, blank line between); the model and
# flags are the first CPU's.
CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw

processor\t: 1
model name\t: Another CPU
flags\t\t: fpu sse2
"""


def test_cpu_description_names_the_first_cpu_and_its_widest_vector_extension(tmp_path: Path):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO)
    assert cpu_description(path) == "Intel(R) Xeon(R) Processor, AVX-512"
    path.write_text(CPUINFO.replace(" avx512f avx512bw", ""))
    assert cpu_description(path) == "Intel(R) Xeon(R) Processor, AVX2"
    path.write_text(CPUINFO.replace(" avx avx2 avx512f avx512bw", ""))
    assert cpu_description(path) == "Intel(R) Xeon(R) Processor"


def test_cpu_description_is_empty_without_cpuinfo(tmp_path: Path):
    assert cpu_description(tmp_path / "missing") == ""


def test_machine_description_on_this_machine():
    text = machine_description()
    assert text.split(",")[0].endswith("CPU cores")
    if Path("/proc/cpuinfo").exists():
        assert cpu_description() in text and cpu_description() != ""


def test_load_average_is_the_one_minute_figure_or_nan_without_one(monkeypatch):
    if hasattr(os, "getloadavg"):
        monkeypatch.setattr(os, "getloadavg", lambda: (1.25, 0.5, 0.25))
        assert load_average() == 1.25
    monkeypatch.delattr(os, "getloadavg", raising=False)
    assert math.isnan(load_average())
