"""Run one benchmark on an earlier commit and on this checkout, side by side, in one run.

Usage: python bench/versus.py --before be3fa31 [--after REV] [--rounds 1] -- nightly.py --comments 20000

The machine is shared and noisy, so a "before" figure recorded last week cannot be compared
with an "after" figure measured today. This script checks the ``--before`` commit out into a
temporary git worktree (``--after`` too, when given; else "after" is this checkout) and runs the named script of ``bench/`` there (its own version of the
script, against its own code) and here, in turns (before, after, before, after, ... for
``--rounds`` rounds), with the same arguments and environment, each in a fresh process. It
prints each run's output under a heading, then the wall seconds of every run.

``--carry var/bench/clustering`` copies a folder of this checkout (a cache of inputs that
is slow to build) into each side's worktree first, so neither side spends its time building it.
Environment variables are passed through, so ``HASSLEMAP_MODELS__BACKEND=torch-bf16-jit``
pins both sides to one backend. Paths in the arguments are relative to each checkout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import git_revision, machine, today

ROOT = Path(__file__).resolve().parents[1]


def add_worktree(folder: Path, rev: str) -> Path:
    """Check ``rev`` out into ``folder`` as a detached git worktree of this repository."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), rev], check=True
    )
    return folder


def run_side(checkout: Path, script: str, args: list[str]) -> tuple[float, str]:
    """Run ``bench/<script>`` of ``checkout`` with its code first on the path; return (s, output)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(checkout / "bench" / script), *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    output = done.stdout + (
        f"\n[exit {done.returncode}]\n{done.stderr[-3000:]}" if done.returncode else ""
    )
    return seconds, output


def main() -> None:
    """Parse the arguments, run both sides in turns and print their outputs and times."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--before", required=True, help="commit to compare with (git rev)")
    parser.add_argument("--after", help="commit to measure as 'after' (default: this checkout)")
    parser.add_argument(
        "--carry", action="append", default=[], help="folder of this checkout to copy to each side"
    )
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs to run")
    parser.add_argument("script", help="a script in bench/, e.g. nightly.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments, after --")
    options = parser.parse_args()
    args = [a for a in options.args if a != "--"]

    after_name = options.after or f"{git_revision()} (this checkout)"
    print(f"{today()}, {machine()}; before {options.before}, after {after_name}")
    print(f"command: bench/{options.script} {' '.join(args)}; rounds {options.rounds}")
    with tempfile.TemporaryDirectory(prefix="hasslemap-versus-") as tmp:
        before = add_worktree(Path(tmp) / "before", options.before)
        after = add_worktree(Path(tmp) / "after", options.after) if options.after else ROOT
        for folder in options.carry:
            for checkout in {before, after} - {ROOT}:
                shutil.copytree(ROOT / folder, checkout / folder, dirs_exist_ok=True)
        times: list[tuple[str, int, float]] = []
        try:
            for round_number in range(1, options.rounds + 1):
                for side, checkout in (("before", before), ("after", after)):
                    print(f"\n===== {side} (round {round_number}) =====", flush=True)
                    seconds, output = run_side(checkout, options.script, args)
                    print(output, flush=True)
                    times.append((side, round_number, seconds))
        finally:
            for checkout in {before, after} - {ROOT}:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)]
                )
    print("\n| side | round | wall s |\n|---|---:|---:|")
    for side, round_number, seconds in times:
        print(f"| {side} | {round_number} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
