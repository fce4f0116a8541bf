"""What this machine is: CPU model and flags, and the versions of the libraries that encode."""

from __future__ import annotations

import ctypes
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


NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (elsewhere bf16 is emulated, and slow)."""
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)


_SYS_ARCH_PRCTL = 158  # x86-64 Linux
_ARCH_REQ_XCOMP_PERM = 0x1023
_XFEATURE_XTILEDATA = 18


def amx_granted() -> bool:
    """Whether this process may use AMX: the CPU lists it *and* Linux grants its tile state.

    A CPU can list ``amx_tile`` while the kernel (too old, or a container's seccomp profile)
    refuses the state; then oneDNN and onnxruntime quietly run their AVX-512 kernels and the
    bf16 backends lose most of their speed. The request is the one those libraries make before
    they use AMX (``arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)``); asking is harmless
    and, once granted, lasts for the process.
    """
    # amx_tile is an x86 flag, and the syscall number below is x86-64 Linux's.
    if "amx_tile" not in cpu_flags() or platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return False


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
