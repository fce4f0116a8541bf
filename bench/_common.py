"""Helpers shared by the benchmark scripts: machine description and results files."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path


def machine() -> str:
    """Describe the machine: CPU model, cores and memory."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory_gb:.0f} GiB RAM, Python {platform.python_version()}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def today() -> str:
    """Today's date (UTC), for the benchmark record."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def git_revision() -> str:
    """The short commit the benchmark ran on, or 'unknown'."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_demo_workspace(workdir: Path, comments: int) -> int:
    """Write demo data and a config (``bench.yaml``) using it; return the records written."""
    from flows.demo import DemoSpec, write_demo_data

    data = workdir / "data"
    if data.exists():
        shutil.rmtree(data)
    for stale in (workdir / "bench.duckdb", workdir / ".dlt"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    summary = write_demo_data(data, DemoSpec(n_comments=comments, bad_records=False))
    config = (Path(__file__).resolve().parents[1] / "config" / "hasslemap.yaml").read_text()
    config = config.replace("var/demo/", f"{data}/").replace(
        "warehouse: var/hasslemap.duckdb", f"warehouse: {workdir / 'bench.duckdb'}"
    )
    (workdir / "bench.yaml").write_text(config)
    return sum(summary.counts.values())
