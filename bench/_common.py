"""Helpers shared by the benchmark scripts: machine description and results files."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
from datetime import UTC, datetime


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
