"""What this machine is: CPU model and flags, and the versions of the libraries that encode."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version


def read_cpuinfo() -> dict[str, str]:
    """Return the first processor's fields from /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if not line.strip():
                    break  # the end of the first processor
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def cpu_flags() -> set[str]:
    """Return the CPU feature flags (``avx512_bf16``, ``amx_int8``, ...); empty where unknown."""
    return set(read_cpuinfo().get("flags", "").split())


def cpu_model() -> str:
    """Return the CPU model name, e.g. ``"AMD EPYC 9B14"``; the architecture where unknown."""
    return read_cpuinfo().get("model name") or platform.processor() or platform.machine()


def library_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Return ``{name: version}`` of the installed distributions (``"-"`` for a missing one)."""
    versions = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "-"
    return versions
