"""Helpers shared by the benchmark scripts: machine description and results files."""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from nlp.wordlists import NEGATIONS, STOP

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def eval_parser(doc: str) -> argparse.ArgumentParser:
    """A parser that shows ``doc`` as written, with ``--eval`` (the shared evaluation folder)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval", type=Path, default=EVAL_DIR)
    return parser


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
    """Peak resident memory of this process so far, in MiB.

    Read from ``VmHWM``, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over from the parent
    across fork and exec, so a child started by a benchmark that had loaded the models would
    report the parent's peak as its own.
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
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


# --- hassle labels that name no problem (issue 12) ------------------------------------------

# A label that is only one of these words names no problem a product owner could act on.
GENERIC_WORDS = frozenset(
    [
        "help",
        "fix",
        "dm",
        "dms",
        "app",
        "apps",
        "issue",
        "issues",
        "problem",
        "problems",
        "hold",
        "wait",
        "waiting",
        "account",
        "accounts",
        "email",
        "emails",
        "support",
        "thanks",
        "thank",
        "please",
        "yes",
        "no",
        "ok",
        "okay",
        "hi",
        "hello",
        "hey",
        "error",
        "errors",
        "question",
        "questions",
        "thing",
        "things",
        "stuff",
        "service",
        "services",
        "update",
        "updates",
        "customer",
        "customers",
        "team",
        "message",
        "messages",
        "reply",
        "response",
        "info",
        "information",
        "order",
        "orders",
        "time",
        "today",
        "day",
        "week",
        "way",
        "work",
        "working",
        "check",
        "sorry",
        "hope",
        "sure",
    ]
)
GREETING_WORDS = frozenset({"hi", "hello", "hey", "dear", "greetings", "hiya", "morning", "yo"})
_HANDLE = re.compile(r"(?<![\w.])@\w")
_URL = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:com|co|ly|me|io|net|org)/", re.IGNORECASE)
_THANKS = re.compile(
    r"\b(?:thanks?|thank you|thankyou|thx|ty|cheers|appreciated?)\b", re.IGNORECASE
)
_GREETING_START = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|hiya|good (?:morning|afternoon|evening))\b", re.IGNORECASE
)
_WORD = re.compile(r"[\w'’-]+")
# The labeller's stopwords, but negations and those that say what happened in a label
# ("spotify down", "charged twice", "log back"): words that add nothing to a label's subject.
_FUNCTION_WORDS = (
    STOP
    - NEGATIONS
    - {"down", "off", "out", "up", "back", "again", "keep", "last", "first", "twice", "once"}
)


def label_words(label: str) -> list[str]:
    """The words of a label, lower case, without the punctuation around them."""
    return [w.strip("'’-").lower() for w in _WORD.findall(label) if w.strip("'’-")]


def label_problems(label: str, brands: tuple[str, ...] = ()) -> list[str]:
    """Why a hassle label names no problem: handle, url, greeting, thanks, brand, generic word.

    Empty when none of these applies. ``brands`` are names that alone are no problem either
    (e.g. ``spotify``). A lone generic word is one of :data:`GENERIC_WORDS`. Function words
    do not count ("spotify on" is the brand alone, "the app" a lone generic word); negations
    and the stopwords that say what happened do ("not spotify", "spotify down").
    """
    problems = []
    if _HANDLE.search(label):
        problems.append("handle")
    if _URL.search(label):
        problems.append("url")
    words = label_words(label)
    content = [w for w in words if w not in _FUNCTION_WORDS] or words
    if _GREETING_START.match(label) or (words and set(words) <= GREETING_WORDS):
        problems.append("greeting")
    if _THANKS.search(label):
        problems.append("thanks")
    if content and set(content) <= {b.lower() for b in brands}:
        problems.append("brand")
    if len(content) == 1 and content[0] in GENERIC_WORDS:
        problems.append("generic word")
    return problems
