"""``models.backend: auto``: the fastest backend on this machine, chosen by measurement.

On first use on a machine every backend that runs on the device is loaded and timed on the
fixed probe texts of :mod:`models.probe`. Only backends whose vectors have a mean cosine of at
least :data:`MIN_COSINE` to float32 ``torch`` on the same texts, and a 5th percentile of at
least :data:`MIN_COSINE_P5`, are eligible; the fastest of those is chosen. The choice is cached in ``cache_dir`` (beside the trace and ONNX caches) with
the fingerprint it holds for: CPU model and flags (or the GPU), library versions and the
model files. A later run with the same fingerprint reuses it; any change measures again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.backends import BACKENDS, missing_requirements
from models.cache import replace_atomically
from models.machine import amx_granted, cpu_flags, cpu_model, library_versions

logger = logging.getLogger(__name__)

AUTO = "auto"
REFERENCE = "torch"
"""The backend every other is compared with: float32 PyTorch."""
MIN_COSINE = 0.99
MIN_COSINE_P5 = 0.985
"""The mean alone overstates a backend that loses most on some texts: onnx-int8 had a mean of
0.9909 on the first probe but 0.9873 on real support-tweet units; its 5th percentile (0.9815
on that probe, 0.9718 on today's) gives it away (bf16: 0.9999)."""
# Bump when the probe, the timing, the candidates or the file changes (5: onnx-int8-mixed;
# 6: each backend timed at its own CPU batch size; 7: avx2's int8 per channel).
CHOICE_FORMAT = "7"
LIBRARIES = ("torch", "transformers", "sentence-transformers", "tokenizers", "onnxruntime", "onnx")
REPEATS = 2  # each backend encodes the probe this often; the fastest pass counts (noisy hosts)

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Trial:
    """One backend timed on the probe.

    Attributes:
        backend: Its name.
        texts_per_second: Probe texts over the fastest pass's seconds.
        cosine: Mean cosine of its vectors to the reference's, text by text.
        cosine_p5: The 5th percentile of those cosines.
    """

    backend: str
    texts_per_second: float
    cosine: float
    cosine_p5: float

    @property
    def faithful(self) -> bool:
        """Whether its vectors are close enough to float32's to be chosen."""
        return self.cosine >= MIN_COSINE and self.cosine_p5 >= MIN_COSINE_P5


@dataclass(frozen=True)
class Choice:
    """What ``auto`` chose, the fingerprint it holds for, and every trial behind it."""

    backend: str
    texts_per_second: float
    fingerprint: dict[str, Any]
    trials: tuple[Trial, ...]


def pick_fastest(trials: Sequence[Trial]) -> Trial:
    """Return the fastest :attr:`~Trial.faithful` trial.

    Raises:
        ValueError: When no trial is eligible.
    """
    eligible = [t for t in trials if t.faithful]
    if not eligible:
        raise ValueError(
            f"no backend reached cosine {MIN_COSINE} (5th percentile {MIN_COSINE_P5}) "
            f"to float32: {trials}"
        )
    return max(eligible, key=lambda t: t.texts_per_second)


def time_backends(
    names: Sequence[str],
    encoder_for: Callable[[str], Encode],
    texts: Sequence[str],
    *,
    clock: Callable[[], float] = time.perf_counter,
    repeats: int = REPEATS,
) -> list[Trial]:
    """Time each backend in ``names`` on ``texts`` and compare its vectors with the reference.

    All backends are loaded first, then timed in turns (one pass each per round), so a burst
    of load from elsewhere on a shared machine slows every backend alike.

    Args:
        names: Backends to time; the reference (``torch``) is timed too, first, whether named
            or not, because every cosine is measured against it.
        encoder_for: Loads a backend and returns its encode function; a backend that fails to
            load or encode is left out, with a warning.
        texts: The probe.
        clock: Seconds, for timing.
        repeats: Timed rounds, after one untimed warm-up pass each; the fastest pass counts.
    """
    encoders: dict[str, Encode] = {}
    for name in [REFERENCE, *(n for n in names if n != REFERENCE)]:
        try:
            encoders[name] = encoder_for(name)
            # warm-up on every probe shape: allocations, kernel choice, and the TorchScript
            # profiling executor, which specialises on each new input shape
            encoders[name](texts)
        except Exception as exc:  # one broken backend must not stop the choice
            if name == REFERENCE:
                raise
            encoders.pop(name, None)
            logger.warning("models.backend auto: %s left out: %s", name, exc)
    best = dict.fromkeys(encoders, float("inf"))
    vectors: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, encode in encoders.items():
            started = clock()
            vectors[name] = np.asarray(encode(texts))
            best[name] = min(best[name], clock() - started)
    reference = vectors[REFERENCE]
    trials = []
    for name in encoders:
        cosines = np.sum(vectors[name] * reference, axis=1)
        trials.append(
            Trial(
                name,
                len(texts) / max(best[name], 1e-9),
                float(np.mean(cosines)),
                float(np.percentile(cosines, 5)),
            )
        )
    return trials


def machine_fingerprint(path: str, device: str) -> dict[str, Any]:
    """Return what a choice holds for: device, CPU model and flags, AMX, versions, model files."""
    folder = Path(path).resolve()
    files = hashlib.sha1()
    for file in sorted(f for f in folder.rglob("*") if f.is_file()):
        stat = file.stat()
        files.update(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}|".encode())
    fingerprint = {
        "format": CHOICE_FORMAT,
        "device": device,
        "cpu": cpu_model(),
        "flags": " ".join(sorted(cpu_flags())),
        "amx_granted": amx_granted(),
        "versions": library_versions(LIBRARIES),
        "model": f"{folder}:{files.hexdigest()[:16]}",
    }
    if device.startswith("cuda"):
        import torch

        fingerprint["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return fingerprint


def choice_file(cache_dir: Path, label: str, device: str) -> Path:
    """Return where the choice for a model on a kind of device is cached."""
    return Path(cache_dir) / f"{label}.auto-{device.replace(':', '')}.json"


def read_choice(file: Path, fingerprint: dict[str, Any]) -> Choice | None:
    """Return the cached choice in ``file`` if it holds for ``fingerprint``; else None."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data["fingerprint"] != fingerprint or data["backend"] not in BACKENDS:
            return None
        trials = tuple(Trial(**t) for t in data["trials"])
        return Choice(data["backend"], float(data["texts_per_second"]), fingerprint, trials)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_choice(file: Path, choice: Choice) -> None:
    """Cache ``choice`` in ``file``, atomically."""
    file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(choice), indent=2)
    replace_atomically(file, lambda target: target.write_text(text, encoding="utf-8"))


def candidates(device: str) -> list[str]:
    """Return the registered backends that run on ``device`` and have their libraries."""
    return [
        name
        for name, backend in BACKENDS.items()
        if not missing_requirements(backend) and backend.runs_on(device)
    ]


def choose_backend(
    file: Path,
    fingerprint: dict[str, Any],
    measure: Callable[[], Sequence[Trial]],
) -> Choice:
    """Return the cached choice in ``file`` for ``fingerprint``, or measure, choose and cache.

    Args:
        file: The choice's cache file (:func:`choice_file`).
        fingerprint: What the choice must hold for (:func:`machine_fingerprint`).
        measure: Times the candidates (:func:`time_backends`); called only on a cache miss.
    """
    cached = read_choice(file, fingerprint)
    if cached is not None:
        logger.debug("models.backend auto: %s (cached in %s)", cached.backend, file)
        return cached
    trials = tuple(measure())
    best = pick_fastest(trials)
    choice = Choice(best.backend, best.texts_per_second, fingerprint, trials)
    write_choice(file, choice)
    logger.info(
        "models.backend auto chose %s: %.0f texts/s on the probe (on %s); measured: %s",
        best.backend,
        best.texts_per_second,
        fingerprint.get("gpu") or fingerprint.get("cpu"),
        ", ".join(
            f"{t.backend} {t.texts_per_second:.0f}/s cos {t.cosine:.4f} p5 {t.cosine_p5:.4f}"
            + ("" if t.faithful else " (refused)")
            for t in trials
        ),
    )
    return choice
