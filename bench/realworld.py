"""Benchmark: hassles on real customer text, scored against human labels, beside BERTopic.

Usage: python bench/realworld.py [--eval ../shared/eval/real] [--sets a,b] [--limit N]
       [--skip-bertopic] [--nights N] [--perturb N] [--markdown] [--workdir DIR]

Every set under ``--eval`` (its README.md documents the files) is run as a new user would run
it: a sources config naming the set's own file, columns and date field, then the real
``nightly`` flow (in this process, against a temporary Prefect server) into a fresh warehouse
in a temporary folder. The published hassles are read back with read-only DuckDB queries and
joined to the source rows by the external id the config names. The data is read from
``--eval`` at run time and never copied into the project: where a file cannot be read as it
is, a copy goes to the temporary folder only (see "Copies" below).

Sets, the channel each is given, and what is scored:

=====================  ========  ====================================================
set                    channel   scored
=====================  ========  ====================================================
cfpb_raw               ticket    all 530 complaints; reasons ``product`` (9) and ``issue`` (46)
cfpb_ibm               ticket    all 1,000; reason ``product`` (5); IBM's prompt stripped
endava                 ticket    all 5,431 tickets; reason ``category`` (9 codes)
itsm                   ticket    all 7,818 tickets; reason ``assignment_group`` (74)
se14                   review    SemEval-2014 sentences (train + test); complaints are those with
                                 a negative aspect category, the reason is that category (two
                                 negative categories: both, joined with ``+``)
se16                   review    SemEval-2016 the same, with the E#A ``category``
uci_amazon, uci_yelp   review    pain points only (label 0 = negative = complaint)
womens_clothing        review    complaints are ratings <= 2; reason ``class_name``; pain points
tripadvisor            review    pain points only (ratings)
twcs                   social*   unlabelled: label quality, and the nightly replay (stability)
=====================  ========  ====================================================

\\* ``social`` when config/settings.py accepts that channel, else ``ticket`` (a tweet to a
support handle is a support request); the choice is printed.

Copies (temporary folder only): a set without its own id column gets ``row_id`` (file and
row number); a set without a date gets ``received`` (today, as an export date would be); the
tweets' ``created_at`` (``Wed Oct 11 06:55:44 +0000 2017``) is written as ISO 8601 beside
it in ``created_utc``, so that commits from before hasslemap read Twitter's format (issue
12) can be measured the same way (the share of dates readable as they are is printed per set); IBM's prompt
is stripped; ``--limit`` writes a seeded subsample. cfpb_raw without ``--limit`` is read
straight from the shared file. ``cluster.window_days`` is widened to a set's date span
where that exceeds 90 days, so that every text is in the window; all else is the default.

Mapping: a text's hassle is the child hassle holding most of its units (ties: the smallest
id) in the latest clustering; its parent is that child's ``parent_id`` in the same run.
A text with no unit in a hassle is uncovered.

Metrics per set, over the scored texts (the complaints where polarity or ratings exist):

* coverage: share of scored texts with a hassle (BERTopic: not an outlier);
* NMI and ARI over covered texts, and over all scored texts with the uncovered as one group;
* reason recall: of the reasons holding >= 2% of the scored texts, how many own a pure
  hassle (a hassle with >= 20 scored texts of which >= 50% carry that reason);
* hassles per level (BERTopic: topics);
* pain points, where sentiment or ratings exist: a text has one when any of its units is a
  pain point; complaints (negative, rating <= 2) should, non-complaints (positive, rating
  >= 4) should not: precision, recall and F1; with ratings also the share of 1-2 star texts
  with a pain point and of 5-star texts with one; on every set the share of all texts with one;
* false "unsupported language": share of texts marked ``unsupported_language`` (every set
  here is English).

BERTopic, side by side on the same scored texts, with the same embedding model (hasslemap's
default embedder, ``models.load_embedder()``, on the texts as the file holds them):
``BERTopic(calculate_probabilities=False)`` with its default UMAP (seed 42) and HDBSCAN; then
the same model with ``reduce_topics`` to hasslemap's child-hassle count.

twcs: with the replay on (``--nights`` > 0), scored on the replay's last night rather than
in a run of its own (the tweets up to D0 + N nights: the same text, enriched once); else in a
run of its own. The share of hassle labels (both levels) that are a handle, URL, greeting, thanks, the
brand alone or a lone generic word (``bench/_common.py``: ``label_problems``,
``GENERIC_WORDS``), the one-word labels, and the share of clustered pain points in hassles
ranked too unspecific (``hassle_rankings.generic``).

Spread (``--perturb N``): each labelled set is run N more times, each leaving a seeded
``--perturb-share`` (0.5%) of its rows out, hasslemap and BERTopic alike; a table gives the
mean, standard deviation and range of NMI all, coverage and reasons over the run and its
reruns, and of the NMI gap to BERTopic run by run. HDBSCAN's result moves with a handful of
rows (docs/benchmarks.md, the noise floor), so a difference smaller than this spread is not a
measured difference.

Replay (``--nights N``, default 7, 0 to skip): the tweets split by UTC day; night 0 is
everything up to a day D0, then one day per night. D0 is chosen so that the N following days
each add as even and small a share as possible (the largest daily share is minimised; ties:
the latest D0). Per night: tweets added, how the night clustered (``full`` with its reason,
and on a routine full night how many late finds were folded into kept hassles and kept
hassles restored; ``incremental``, the day voted into last night's hassles; or ``skipped``),
the child hassles holding >= 1% of
the pain points (units in the window) and how many of those kept their id, are new or
retired, merge-then-resplit events (a >= 1% id of two nights ago gone last night with most
of its units in another hassle, and tonight most of them under an id new tonight), parents
and parent ids kept, and label changes of the kept >= 1% ids.

Targets (issue 12), per labelled set: NMI all >= BERTopic default + 0.05, reason recall >=
BERTopic default's, coverage >= 0.75; pain-point F1 >= 0.85 on the sentiment sentences;
>= 90% of 1-2 star and <= 15% of 5-star reviews with a pain point; <= 1% unsupported
language; no twcs label a handle, URL, greeting, thanks or lone generic word; in the replay,
ids of >= 1% hassles kept, no merge-then-resplit, at most 1 new plus retired per night.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import typing
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import git_revision, label_problems, label_words, machine, today  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VECTOR_CACHE = ROOT / "var" / "bench" / "realworld"
MODEL_CACHE = VECTOR_CACHE / "models"  # the embedder's bf16 trace, built once for every run
IBM_PROMPT_END = "Comment: "
TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"
MIN_REASON_SHARE = 0.02
PURE_MIN_TEXTS = 20
PURE_MIN_SHARE = 0.5
BIG_HASSLE_SHARE = 0.01
TOP_LABELS = 15


@dataclass(frozen=True)
class RealSet:
    """One real set: its files, the columns a user maps, and what is scored."""

    name: str
    files: tuple[str, ...]  # relative to --eval
    channel: str
    text: tuple[str, ...]
    reasons: tuple[str, ...] = ()  # label columns scored as complaint reasons
    polarity: str | None = None  # binary | rating | absa14 | absa16
    external_id: str | None = None
    date: str | None = None
    date_format: str | None = None  # when the file's dates are not ISO 8601
    customer_id: str | None = None
    rating: str | None = None
    brands: tuple[str, ...] = ()
    strip_prompt: bool = False


SETS: dict[str, RealSet] = {
    s.name: s
    for s in (
        RealSet(
            "cfpb_raw",
            ("cfpb_complaints/cfpb_raw_narratives.csv",),
            "ticket",
            ("text",),
            reasons=("product", "issue"),
            external_id="complaint_id",
            date="date_received",
        ),
        RealSet(
            "cfpb_ibm",
            ("cfpb_complaints/cfpb_ibm_preprocessed.csv",),
            "ticket",
            ("text",),
            reasons=("product",),
            strip_prompt=True,
        ),
        RealSet(
            "endava",
            ("helpdesk_tickets/endava_all_tickets_partial_5431.csv",),
            "ticket",
            ("text",),
            reasons=("category",),
        ),
        RealSet(
            "itsm",
            ("helpdesk_tickets/itsm_assignment_groups_7818.csv",),
            "ticket",
            ("text",),
            reasons=("assignment_group",),
        ),
        RealSet(
            "se14",
            (
                "semeval_absa/se14_restaurants_train.jsonl",
                "semeval_absa/se14_restaurants_test.jsonl",
            ),
            "review",
            ("text",),
            reasons=("category",),
            polarity="absa14",
            external_id="id",
        ),
        RealSet(
            "se16",
            (
                "semeval_absa/se16_restaurants_train.jsonl",
                "semeval_absa/se16_restaurants_test.jsonl",
            ),
            "review",
            ("text",),
            reasons=("category",),
            polarity="absa16",
            external_id="id",
        ),
        RealSet(
            "uci_amazon",
            ("reviews/uci_sentiment_amazon_cells.csv",),
            "review",
            ("text",),
            polarity="binary",
        ),
        RealSet(
            "uci_yelp", ("reviews/uci_sentiment_yelp.csv",), "review", ("text",), polarity="binary"
        ),
        RealSet(
            "womens_clothing",
            ("reviews/womens_clothing_reviews_partial.csv",),
            "review",
            ("title", "text"),
            reasons=("class_name",),
            polarity="rating",
            rating="rating",
        ),
        RealSet(
            "tripadvisor",
            ("reviews/tripadvisor_hotel_reviews_partial_2000.csv",),
            "review",
            ("text",),
            polarity="rating",
            rating="rating",
        ),
        RealSet(
            "twcs",
            ("twcs/twcs_spotifycares_inbound_15096.csv",),
            "social",
            ("text",),
            external_id="tweet_id",
            date="created_at",
            date_format=TWITTER_DATE,
            customer_id="author_id",
            brands=("spotify", "spotifycares", "spotifycare"),
        ),
    )
}


def progress(message: str) -> None:
    """One line of progress on stderr, with the time."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def channel_for(wanted: str) -> str:
    """``wanted`` when the settings accept that channel, else ``ticket``."""
    from config.channels import Channel

    return wanted if wanted in typing.get_args(Channel) else "ticket"


# --- reading a set ---------------------------------------------------------------------------


@dataclass
class SetRows:
    """A set's rows as read, plus what the benchmark derived from them (same order)."""

    spec: RealSet
    frames: list[Any]  # one pandas DataFrame per file, original columns, all strings
    ids: list[str]  # the external id each row is loaded under
    texts: list[str]  # the text as the file holds it (fields joined), for BERTopic
    complaint: list[bool | None]  # None: neither complaint nor not (neutral, rating 3, unknown)
    reasons: dict[str, list[str]]  # reason column -> label per row
    ratings: list[int | None]
    dates_readable: float | None = None  # share of the file's own dates hasslemap can parse
    subsampled: bool = False  # --limit kept fewer rows than the files hold


def _absa(record: dict, key: str) -> tuple[bool | None, str]:
    """(complaint, reason) of one SemEval sentence: a negative aspect makes it a complaint."""
    opinions = record.get(key) or []
    polarities = [o["polarity"] for o in opinions]
    negative = sorted({o["category"] for o in opinions if o["polarity"] == "negative"})
    if negative:
        return True, "+".join(negative)
    if polarities and all(p == "positive" for p in polarities):
        return False, ""
    return None, ""


def read_set(
    spec: RealSet, eval_dir: Path, limit: int | None, seed: int, drop: tuple[float, int] = (0, 0)
) -> SetRows:
    """Read a set's files; a ``limit`` keeps a seeded subsample of that many rows.

    ``drop`` (share, seed) then leaves out that share of the rows (at least one), seeded: the
    same subsample less a handful of rows, for ``--perturb``.
    """
    import pandas as pd

    from flows.sources.timestamps import parse_timestamp

    frames = []
    for file in spec.files:
        path = eval_dir / file
        if path.suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
            for column in frame.columns:
                if frame[column].map(lambda v: isinstance(v, list | dict)).any():
                    continue
                frame[column] = frame[column].astype(str)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["_file"] = Path(file).stem
        frames.append(frame)
    subsampled = bool(limit) and limit < sum(len(f) for f in frames)
    if subsampled:
        whole = pd.concat(frames, ignore_index=True).sample(n=limit, random_state=seed)
        frames = [whole[whole["_file"] == Path(f).stem].sort_index() for f in spec.files]
    if drop[0] > 0:
        whole = pd.concat(frames, ignore_index=False, keys=range(len(frames)))
        left_out = whole.sample(n=max(1, round(drop[0] * len(whole))), random_state=drop[1])
        whole = whole.drop(left_out.index)
        frames = [whole.xs(k).sort_index() for k in range(len(frames))]
        subsampled = True
    ids, texts, complaint, ratings = [], [], [], []
    reasons: dict[str, list[str]] = {r: [] for r in spec.reasons}
    readable = []
    for frame in frames:
        if spec.strip_prompt:
            frame["text"] = frame["text"].map(lambda t: t.split(IBM_PROMPT_END, 1)[-1])
        for index, row in frame.iterrows():
            if spec.external_id:
                ids.append(
                    f"{row['_file']}:{row[spec.external_id]}"
                    if len(spec.files) > 1
                    else str(row[spec.external_id])
                )
            else:
                ids.append(f"{row['_file']}:{index}")
            texts.append("\n".join(str(row[t]) for t in spec.text if str(row[t]).strip()))
            rating = int(row[spec.rating]) if spec.rating and str(row[spec.rating]) else None
            ratings.append(rating)
            reason_of_row = ""
            if spec.polarity == "binary":
                complaint.append(row["label"] == "0")
            elif spec.polarity == "rating":
                complaint.append(None if rating in (None, 3) else rating <= 2)
            elif spec.polarity == "absa14":
                is_complaint, reason_of_row = _absa(row, "aspect_categories")
                complaint.append(is_complaint)
            elif spec.polarity == "absa16":
                is_complaint, reason_of_row = _absa(row, "opinions")
                complaint.append(is_complaint)
            else:
                complaint.append(True)
            for column in spec.reasons:
                if spec.polarity in ("absa14", "absa16"):
                    reasons[column].append(reason_of_row)
                else:
                    reasons[column].append(str(row[column]) or "(empty)")
            if spec.date:
                readable.append(parse_timestamp(row[spec.date]) is not None)
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{spec.name}: external ids are not unique")
    rows = SetRows(spec, frames, ids, texts, complaint, reasons, ratings, subsampled=subsampled)
    if readable:
        rows.dates_readable = sum(readable) / len(readable)
    return rows


# --- a user's config, and the nightly run --------------------------------------------------


def write_inputs(
    rows: SetRows, folder: Path, as_is: bool
) -> tuple[str | None, dict[str, Any], int]:
    """Write the files hasslemap reads (unless ``as_is``); return (glob, fields, window days).

    The glob is None when the set is read as it is.
    """
    spec = rows.spec
    fields: dict[str, Any] = {"text": list(spec.text)}
    if spec.customer_id:
        fields["customer_id"] = spec.customer_id
    if spec.rating:
        fields["rating"] = spec.rating
    fields["external_id"] = spec.external_id if len(spec.files) == 1 else "uid"
    fields["external_id"] = fields["external_id"] or "row_id"
    fields["created_at"] = spec.date or "received"
    if spec.date_format:
        fields["created_at"] = "created_utc"
    window = 90
    if spec.date:
        dates = [
            datetime.strptime(d, spec.date_format)
            if spec.date_format
            else datetime.fromisoformat(d)
            for frame in rows.frames
            for d in frame[spec.date]
        ]
        window = max(window, (max(dates) - min(dates)).days + 1)
    if as_is:
        return None, fields, window
    folder.mkdir(parents=True, exist_ok=True)
    offset = 0
    received = today()
    for frame, file in zip(rows.frames, rows.spec.files, strict=True):
        out = frame.copy()
        ids = rows.ids[offset : offset + len(frame)]
        offset += len(frame)
        if not spec.external_id:
            out["row_id"] = ids
        if len(spec.files) > 1:
            out["uid"] = ids
        if not spec.date:
            out["received"] = received
        if spec.date_format:
            out["created_utc"] = [
                datetime.strptime(d, spec.date_format).astimezone(UTC).isoformat()
                for d in out[spec.date]
            ]
        out = out.drop(columns=["_file"])
        target = folder / Path(file).name
        if target.suffix == ".jsonl":
            out.to_json(target, orient="records", lines=True, force_ascii=False)
        else:
            out.to_csv(target, index=False)
    suffix = Path(spec.files[0]).suffix
    return str(folder / f"*{suffix}"), fields, window


def write_config(
    workdir: Path,
    name: str,
    channel: str,
    path: str,
    fields: dict,
    window: int,
    fmt: str,
    overrides: Sequence[str] = (),
) -> Path:
    """Write the sources config a user would write; the warehouse goes into ``workdir``.

    ``overrides`` are ``section.key=value`` settings (``--set``; the value is read as YAML),
    for comparing a setting's values on real text.
    """
    import yaml

    settings = {
        "warehouse": str(workdir / "warehouse.duckdb"),
        "models": {"cache_dir": str(MODEL_CACHE)},
        "report": {"out_dir": str(workdir / "reports")},
        "snapshot": {"enabled": False},  # nothing here reads it
        "sources": [
            {"name": name, "channel": channel, "path": path, "format": fmt, "fields": fields}
        ],
    }
    if window != 90:
        settings["cluster"] = {"window_days": window}
    for override in overrides:
        dotted, _, value = override.partition("=")
        *sections, key = dotted.split(".")
        target = settings
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = yaml.safe_load(value)
    config = workdir / "hasslemap.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def run_nightly(config: Path) -> tuple[dict, float]:
    """Run the real nightly flow on ``config``; return its result and seconds."""
    from flows.nightly import nightly

    started = time.perf_counter()
    result = nightly(str(config))
    return result, time.perf_counter() - started


def stage_seconds(result: dict) -> str:
    """The seconds of the stages that report them, for the progress line."""
    stages = result["stages"]
    enrich = stages.get("enrich", {})
    parts = {
        "enrich": sum(enrich.get(k, 0) for k in ("split_seconds", "embed_seconds", "tag_seconds")),
        "cluster": stages.get("cluster", {}).get("cluster_seconds", 0.0),
    }
    return ", ".join(f"{k} {v:.0f} s" for k, v in parts.items())


# --- reading the published hassles ---------------------------------------------------------


@dataclass
class Published:
    """What one run published, by external id."""

    text_child: dict[str, str]  # external id -> child hassle
    text_parent: dict[str, str]  # external id -> parent hassle
    pain: dict[str, bool]  # external id -> has a pain-point unit
    unsupported: dict[str, bool]  # external id -> marked unsupported_language
    hassles: list[dict]  # hassle_runs of the latest clustering: id, level, parent, label, units
    unit_members: dict[str, str]  # unit id -> child hassle (the latest clustering)
    units_in: int  # pain-point units in the window
    generic: dict[str, bool] = field(default_factory=dict)  # child id -> ranked too unspecific
    rejected: int = 0
    comments: int = 0
    cluster_run: str | None = None


def read_published(warehouse: Path) -> Published:
    """Read the latest clustering and the tags back from the warehouse, read-only."""
    import duckdb

    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        run = conn.execute(
            "SELECT run_id, units_in FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1"
        ).fetchone()
        run_id, units_in = run if run else (None, 0)
        hassles = [
            dict(zip(("id", "level", "parent", "label", "units"), r, strict=True))
            for r in conn.execute(
                "SELECT hassle_id, coalesce(level, 'child'), parent_id, label, units "
                "FROM hassle_runs WHERE run_id = ? ORDER BY units DESC, hassle_id",
                [run_id],
            ).fetchall()
        ]
        members = conn.execute(
            "SELECT m.unit_id, m.hassle_id, c.external_id FROM hassle_members m "
            "JOIN units u USING (unit_id) JOIN comments c ON c.comment_id = u.comment_id "
            "WHERE m.run_id = ?",
            [run_id],
        ).fetchall()
        pain = dict(
            conn.execute(
                "SELECT c.external_id, coalesce(bool_or(t.is_pain_point), false) FROM comments c "
                "LEFT JOIN tags t ON t.comment_id = c.comment_id AND t.subject_kind = 'unit' "
                "GROUP BY 1"
            ).fetchall()
        )
        unsupported = dict(
            conn.execute(
                "SELECT c.external_id, NOT e.language_supported FROM comments c "
                "JOIN comment_enrichment e USING (comment_id)"
            ).fetchall()
        )
        generic = dict(
            conn.execute(
                "SELECT hassle_id, generic FROM hassle_rankings WHERE coalesce(level, 'child') = "
                "'child' AND run_id = (SELECT run_id FROM hassle_rankings "
                "ORDER BY ranked_at DESC LIMIT 1)"
            ).fetchall()
        )
        [(rejected,)] = conn.execute(
            "SELECT count(*) FROM rejected WHERE action = 'quarantined'"
        ).fetchall()
        [(comments,)] = conn.execute("SELECT count(*) FROM comments").fetchall()
    finally:
        conn.close()
    votes: dict[str, Counter] = defaultdict(Counter)
    for _, hassle, external_id in members:
        votes[external_id][hassle] += 1
    text_child = {
        text: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for text, c in votes.items()
    }
    parent_of = {h["id"]: h["parent"] for h in hassles if h["level"] == "child" and h["parent"]}
    text_parent = {t: parent_of[h] for t, h in text_child.items() if h in parent_of}
    return Published(
        text_child,
        text_parent,
        pain,
        unsupported,
        hassles,
        {unit: hassle for unit, hassle, _ in members},
        units_in or 0,
        generic,
        rejected,
        comments,
        run_id,
    )


# --- scores ---------------------------------------------------------------------------------


def clustering_scores(truth: list[str], found: list[str | None]) -> dict[str, Any]:
    """Coverage, NMI/ARI (covered, all), reason recall and cluster count of one assignment."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth_a = np.asarray(truth)
    covered = np.asarray([f is not None for f in found])
    groups = np.asarray([f if f is not None else "\x00uncovered" for f in found])
    out: dict[str, Any] = {
        "texts": len(truth),
        "clusters": len({f for f in found if f is not None}),
        "coverage": float(covered.mean()) if len(found) else float("nan"),
        "nmi_all": normalized_mutual_info_score(truth_a, groups) if len(found) else float("nan"),
        "ari_all": adjusted_rand_score(truth_a, groups) if len(found) else float("nan"),
        "nmi_cov": float("nan"),
        "ari_cov": float("nan"),
    }
    if covered.sum() > 1:
        out["nmi_cov"] = normalized_mutual_info_score(truth_a[covered], groups[covered])
        out["ari_cov"] = adjusted_rand_score(truth_a[covered], groups[covered])
    counts = Counter(truth)
    reasons = [r for r, n in counts.items() if n >= MIN_REASON_SHARE * len(truth)]
    by_cluster: dict[str, Counter] = defaultdict(Counter)
    for t, f in zip(truth, found, strict=True):
        if f is not None:
            by_cluster[f][t] += 1
    owned = set()
    for members in by_cluster.values():
        size = sum(members.values())
        if size >= PURE_MIN_TEXTS:
            top, n = members.most_common(1)[0]
            if n >= PURE_MIN_SHARE * size:
                owned.add(top)
    out["recall_k"] = len(owned & set(reasons))
    out["recall_n"] = len(reasons)
    out["largest_share"] = (
        max(sum(m.values()) for m in by_cluster.values()) / len(truth) if by_cluster else 0.0
    )
    return out


def pain_scores(rows: SetRows, published: Published) -> dict[str, Any]:
    """Pain-point precision/recall/F1 against complaint labels, and the rating shares.

    Over the texts that were loaded and enriched (a quarantined row has no tags to score).
    """
    loaded = [k for k, i in enumerate(rows.ids) if i in published.unsupported]
    has = [published.pain.get(rows.ids[k], False) for k in loaded]
    complaint = [rows.complaint[k] for k in loaded]
    ratings = [rows.ratings[k] for k in loaded]
    out: dict[str, Any] = {
        "pain_share": sum(has) / len(has) if has else float("nan"),
        "enriched": len(loaded),
    }
    pairs = [(c, h) for c, h in zip(complaint, has, strict=True) if c is not None]
    if rows.spec.polarity and pairs:
        tp = sum(c and h for c, h in pairs)
        fp = sum((not c) and h for c, h in pairs)
        fn = sum(c and not h for c, h in pairs)
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        out.update(
            precision=precision,
            recall=recall,
            f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            labelled=len(pairs),
        )
    if rows.spec.rating:
        low = [h for r, h in zip(ratings, has, strict=True) if r is not None and r <= 2]
        five = [h for r, h in zip(ratings, has, strict=True) if r == 5]
        out["low_star_pain"] = sum(low) / len(low) if low else float("nan")
        out["five_star_pain"] = sum(five) / len(five) if five else float("nan")
    marked = [published.unsupported[rows.ids[k]] for k in loaded]
    out["unsupported"] = sum(marked) / len(marked) if marked else float("nan")
    return out


def label_quality(published: Published, brands: tuple[str, ...]) -> dict[str, Any]:
    """Labels that name no problem, one-word labels, and pain points in too-unspecific hassles."""
    flagged = []
    one_word = []
    for h in published.hassles:
        problems = label_problems(h["label"], brands)
        if problems:
            flagged.append((h["level"], h["label"], problems))
        if len(label_words(h["label"])) == 1:
            one_word.append(h["label"])
    members = Counter(published.unit_members.values())
    clustered = sum(members.values())
    generic_units = sum(n for h, n in members.items() if published.generic.get(h))
    return {
        "labels": len(published.hassles),
        "flagged": flagged,
        "one_word": one_word,
        "generic_share": generic_units / clustered if clustered else float("nan"),
    }


# --- BERTopic -------------------------------------------------------------------------------


def embed(texts: list[str], embedder_box: list) -> Any:
    """The default embedder's vectors of ``texts``, cached by a hash of the texts (no text kept)."""
    import numpy as np

    key = hashlib.sha1("\x1e".join(texts).encode()).hexdigest()[:16]
    cached = VECTOR_CACHE / f"{key}.npy"
    if cached.exists():
        return np.load(cached)
    if not embedder_box:
        from models import load_embedder

        embedder_box.append(load_embedder(cache_dir=MODEL_CACHE))
    vectors = np.asarray(embedder_box[0].encode(texts), dtype=np.float32)
    VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors


def run_bertopic(texts: list[str], vectors: Any, reduce_to: int) -> dict[str, Any]:
    """BERTopic default on ``vectors``, then reduced to ``reduce_to`` topics: assignments, labels."""
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(
        n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42
    )
    model = BERTopic(umap_model=umap_model, calculate_probabilities=False, verbose=False)
    started = time.perf_counter()
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    seconds = time.perf_counter() - started
    default = [None if t == -1 else str(t) for t in topics]
    labels = _topic_labels(model)
    found = len(set(topics) - {-1})
    if 1 < reduce_to < found:
        model.reduce_topics(texts, nr_topics=reduce_to + (1 if -1 in topics else 0))
        reduced = [None if t == -1 else str(t) for t in model.topics_]
    else:
        reduced = default
    return {"default": default, "reduced": reduced, "labels": labels, "seconds": seconds}


def _topic_labels(model: Any) -> list[str]:
    info = model.get_topic_info()
    info = info[info["Topic"] != -1].sort_values("Count", ascending=False)
    return [
        f"{' '.join(w for w, _ in model.get_topic(t)[:4])} ({n})"
        for t, n in zip(info["Topic"], info["Count"], strict=True)
    ][:TOP_LABELS]


# --- one set --------------------------------------------------------------------------------


def run_set(
    spec: RealSet,
    args: argparse.Namespace,
    workroot: Path,
    embedder_box: list,
    drop: tuple[float, int] = (0, 0),
) -> dict:
    """Run, read back and score one set; return everything the tables print.

    ``drop`` (share, seed) leaves a seeded handful of rows out (:func:`read_set`).
    """
    rows = read_set(spec, args.eval, args.limit, args.seed, drop)
    progress(f"{spec.name}: {len(rows.ids):,} rows read")
    workdir = workroot / (f"{spec.name}-drop{drop[1]}" if drop[0] else spec.name)
    workdir.mkdir(parents=True)
    channel = channel_for(spec.channel)
    as_is = not rows.subsampled and not spec.strip_prompt and bool(spec.external_id and spec.date)
    as_is = as_is and not spec.date_format and len(spec.files) == 1
    path, fields, window = write_inputs(rows, workdir / "data", as_is)
    path = path or str(args.eval / spec.files[0])
    fmt = "jsonl" if spec.files[0].endswith(".jsonl") else "csv"
    config = write_config(workdir, spec.name, channel, path, fields, window, fmt, args.set)
    progress(f"{spec.name}: nightly run ({channel}, {path})")
    result, seconds = run_nightly(config)
    progress(f"{spec.name}: nightly done in {seconds:.0f} s ({stage_seconds(result)})")
    published = read_published(workdir / "warehouse.duckdb")
    return score_set(rows, published, channel, seconds, args, embedder_box)


def score_set(
    rows: SetRows,
    published: Published,
    channel: str,
    seconds: float,
    args: argparse.Namespace,
    embedder_box: list,
) -> dict:
    """Score one set's published hassles (and BERTopic on the same texts)."""
    spec = rows.spec
    out: dict[str, Any] = {
        "name": spec.name,
        "rows": len(rows.ids),
        "channel": channel,
        "seconds": seconds,
        "published": published,
        "pain": pain_scores(rows, published),
        "dates_readable": rows.dates_readable,
        "levels": Counter(h["level"] for h in published.hassles),
        "methods": {},
    }
    scored = [i for i, c in enumerate(rows.complaint) if c]
    children = out["levels"].get("child", 0)
    for reason in spec.reasons:
        truth = [rows.reasons[reason][i] for i in scored]
        ids = [rows.ids[i] for i in scored]
        methods = {
            "hasslemap children": [published.text_child.get(i) for i in ids],
            "hasslemap parents": [published.text_parent.get(i) for i in ids],
        }
        out["methods"][reason] = {m: clustering_scores(truth, f) for m, f in methods.items()}
        out["methods"][reason]["hasslemap parents"]["clusters"] = out["levels"].get("parent", 0)
    if spec.reasons and not args.skip_bertopic and len(scored) > 20:
        texts = [rows.texts[i] for i in scored]
        progress(f"{spec.name}: BERTopic on {len(texts):,} texts")
        vectors = embed(texts, embedder_box)
        bertopic = run_bertopic(texts, vectors, children)
        out["bertopic_labels"] = bertopic["labels"]
        for reason in spec.reasons:
            truth = [rows.reasons[reason][i] for i in scored]
            out["methods"][reason]["BERTopic default"] = clustering_scores(
                truth, bertopic["default"]
            )
            out["methods"][reason][f"BERTopic reduced to ~{children}"] = clustering_scores(
                truth, bertopic["reduced"]
            )
        progress(f"{spec.name}: BERTopic done in {bertopic['seconds']:.0f} s")
    if spec.name == "twcs":
        out["labels"] = label_quality(published, spec.brands)
    for reason, methods in out["methods"].items():
        for method, m in methods.items():
            progress(
                f"{spec.name} {reason} {method}: coverage {_f(m['coverage'])}, NMI all "
                f"{_f(m['nmi_all'])}, reasons {m['recall_k']} of {m['recall_n']}"
            )
    return out


# --- the nightly replay ---------------------------------------------------------------------


def choose_d0(days: list[tuple[str, int]], nights: int) -> int:
    """Index of D0: the N following days' largest share of the running total is smallest."""
    best, best_key = None, None
    running = 0
    totals = []
    for _, n in days:
        running += n
        totals.append(running)
    for d0 in range(len(days) - nights):
        shares = [days[d0 + k][1] / totals[d0 + k - 1] for k in range(1, nights + 1)]
        if min(days[d0 + k][1] for k in range(1, nights + 1)) == 0:
            continue
        key = (round(max(shares), 3), -d0)
        if best_key is None or key < best_key:
            best, best_key = d0, key
    if best is None:
        raise SystemExit("replay: not enough days with tweets for that many nights")
    return best


def replay(args: argparse.Namespace, workroot: Path) -> dict[str, Any]:
    """Replay the dated tweets one UTC day a night; return the table of nights."""
    spec = SETS["twcs"]
    rows = read_set(spec, args.eval, args.limit, args.seed)
    frame = rows.frames[0].drop(columns=["_file"])
    stamps = [datetime.strptime(d, TWITTER_DATE).astimezone(UTC) for d in frame["created_at"]]
    frame["created_utc"] = [s.isoformat() for s in stamps]
    frame["_day"] = [s.strftime("%Y-%m-%d") for s in stamps]
    days = sorted(Counter(frame["_day"]).items())
    d0 = choose_d0(days, args.nights)
    workdir = workroot / "twcs_replay"
    data = workdir / "data"
    data.mkdir(parents=True)
    fields = {
        "external_id": "tweet_id",
        "customer_id": "author_id",
        "created_at": "created_utc",
        "text": ["text"],
    }
    config = write_config(
        workdir, "twcs", channel_for("social"), str(data / "*.csv"), fields, 90, "csv", args.set
    )
    batches = [("night 0", frame[frame["_day"] <= days[d0][0]])]
    batches += [
        (days[d0 + k][0], frame[frame["_day"] == days[d0 + k][0]])
        for k in range(1, args.nights + 1)
    ]
    nights = []
    history: list[Published] = []
    seen: set[str] = set()
    for number, (day, batch) in enumerate(batches):
        name = "upto-" + days[d0][0] if number == 0 else day
        batch.drop(columns=["_day"]).to_csv(data / f"tweets-{name}.csv", index=False)
        progress(f"replay night {number}: {len(batch):,} tweets ({name})")
        result, seconds = run_nightly(config)
        published = read_published(workdir / "warehouse.duckdb")
        nights.append(night_row(number, name, len(batch), published, history, seen, seconds))
        cluster = result["stages"]["cluster"]
        nights[-1]["clustering"] = clustering_cell(cluster)
        history.append(published)
        seen |= {h["id"] for h in published.hassles}
        progress(f"replay night {number}: done in {seconds:.0f} s")
    return {"d0": days[d0][0], "nights": nights, "rows": rows, "published": history[-1]}


def clustering_cell(cluster: dict[str, Any]) -> str:
    """How a night clustered: skipped, incremental, or full with its reason and what was held."""
    if cluster.get("skipped"):
        return "skipped"
    cell = cluster.get("mode", "?")
    if cluster.get("reason"):
        cell += f" ({cluster['reason']})"
    if "late_finds_folded" in cluster:
        cell += (
            f", held: {cluster['late_finds_folded']} folded, {cluster['hassles_restored']} restored"
        )
    return cell


def _big(published: Published) -> set[str]:
    sizes = Counter(published.unit_members.values())
    return {h for h, n in sizes.items() if n >= BIG_HASSLE_SHARE * max(published.units_in, 1)}


def _majority(units: list[str], members: dict[str, str]) -> str | None:
    votes = Counter(members[u] for u in units if u in members)
    return min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0] if votes else None


def night_row(
    number: int,
    name: str,
    added: int,
    published: Published,
    history: list[Published],
    seen: set[str],
    seconds: float,
) -> dict[str, Any]:
    """One night's stability figures against the nights before."""
    ids = {h["id"] for h in published.hassles if h["level"] == "child"}
    parents = {h["id"] for h in published.hassles if h["level"] == "parent"}
    labels = {h["id"]: h["label"] for h in published.hassles}
    big = _big(published)
    row: dict[str, Any] = {
        "night": number,
        "day": name,
        "added": added,
        "seconds": seconds,
        "units_in": published.units_in,
        "children": len(ids),
        "big": len(big),
        "parents": len(parents),
        "new": len(big - seen),
    }
    if history:
        before = history[-1]
        big_before = _big(before)
        labels_before = {h["id"]: h["label"] for h in before.hassles}
        parents_before = {h["id"] for h in before.hassles if h["level"] == "parent"}
        kept = big_before & ids
        row["kept"] = len(kept)
        row["retired"] = len(big_before - ids)
        row["parents_kept"] = len(parents_before & parents)
        row["relabelled"] = [
            f"{h}: {labels_before[h]!r} -> {labels[h]!r}"
            for h in sorted(kept)
            if labels_before.get(h) != labels.get(h)
        ]
    resplit = []
    if len(history) >= 2:
        two_ago, last = history[-2], history[-1]
        last_ids = {h["id"] for h in last.hassles}
        for gone in sorted(_big(two_ago) - last_ids):
            units = [u for u, h in two_ago.unit_members.items() if h == gone]
            into = _majority(units, last.unit_members)
            back = _majority(units, published.unit_members)
            if into is not None and back is not None and back != into and back not in seen:
                resplit.append(f"{gone} -> {into} -> {back}")
    row["resplit"] = resplit
    return row


# --- printing -------------------------------------------------------------------------------


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{value:.{digits}f}"


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{100 * value:.1f}%"


def _spread(values: list[float]) -> str:
    """``mean ± sd (min–max)`` of a few runs' values."""
    import numpy as np

    a = np.asarray(values, dtype=float)
    return (
        f"{a.mean():.3f} ± {a.std(ddof=1) if len(a) > 1 else 0:.3f} ({a.min():.3f}–{a.max():.3f})"
    )


def print_spread(results: list[dict], perturbed: dict[str, list[dict]], share: float) -> None:
    """Per labelled set, reason and method: the scores over the run and its perturbed reruns.

    Each rerun leaves a seeded ``share`` of the rows out, so the spread is what a handful of
    rows does to each method: a difference between two single runs smaller than it says
    little.
    """
    reruns = len(next(iter(perturbed.values())))
    print(
        f"**Spread over the run and {reruns} reruns, each leaving a seeded {share:.1%} of the "
        "rows out** (mean ± sd (min–max))"
    )
    print()
    print(
        "| set | reason | method | runs | NMI all | coverage | reasons owning a pure hassle "
        "| NMI all − BERTopic default's, run by run |"
    )
    print("|---|---|---|---:|---|---|---|---|")
    for r in results:
        runs = [r, *perturbed.get(r["name"], [])]
        if len(runs) < 2:
            continue
        for reason, methods in r["methods"].items():
            for method in methods:
                if method == "hasslemap parents" or method.startswith("BERTopic reduced"):
                    continue
                scores = [run["methods"][reason][method] for run in runs]
                gap = "–"
                if method != "BERTopic default" and "BERTopic default" in methods:
                    gap = _spread(
                        [
                            run["methods"][reason][method]["nmi_all"]
                            - run["methods"][reason]["BERTopic default"]["nmi_all"]
                            for run in runs
                        ]
                    )
                owned = sorted(m["recall_k"] for m in scores)
                print(
                    f"| {r['name']} | {reason} | {method} | {len(runs)} "
                    f"| {_spread([m['nmi_all'] for m in scores])} "
                    f"| {_spread([m['coverage'] for m in scores])} "
                    f"| {owned[0]}–{owned[-1]} of {scores[0]['recall_n']} | {gap} |"
                )
    print()


def print_report(results: list[dict], replayed: dict | None, header: str) -> None:
    """The tables: clustering per set and method, pain points and language, labels, replay."""
    print(header)
    print()
    print("**Clustering against the human reasons** (scored texts: complaints where polarity")
    print("or ratings exist; hassles: children and, when there are any, parents)")
    print()
    print(
        "| set | reason | method | scored texts | hassles/topics | coverage | NMI covered "
        "| ARI covered | NMI all | ARI all | reasons owning a pure hassle | largest share |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for reason, methods in r["methods"].items():
            for method, m in methods.items():
                if method == "hasslemap parents" and not m["clusters"]:
                    print(
                        f"| {r['name']} | {reason} | {method} | {m['texts']:,} | 0 "
                        "| – | – | – | – | – | – | – |"
                    )
                    continue
                print(
                    f"| {r['name']} | {reason} | {method} | {m['texts']:,} | {m['clusters']} "
                    f"| {_f(m['coverage'])} | {_f(m['nmi_cov'])} | {_f(m['ari_cov'])} "
                    f"| {_f(m['nmi_all'])} | {_f(m['ari_all'])} "
                    f"| {m['recall_k']} of {m['recall_n']} | {_pct(m['largest_share'])} |"
                )
    print()
    print("**Pain points, language and the run** (every text of the set)")
    print()
    print(
        "| set | channel | texts | quarantined | dates readable as-is | children | parents "
        "| texts with a pain point | precision | recall | F1 | 1-2 star with one "
        "| 5 star with one | unsupported language | nightly s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        p = r["pain"]
        pub = r["published"]
        print(
            f"| {r['name']} | {r['channel']} | {r['rows']:,} | {pub.rejected:,} "
            f"| {_pct(r['dates_readable'])} | {r['levels'].get('child', 0)} "
            f"| {r['levels'].get('parent', 0)} | {_pct(p['pain_share'])} "
            f"| {_f(p.get('precision'))} | {_f(p.get('recall'))} | {_f(p.get('f1'))} "
            f"| {_pct(p.get('low_star_pain'))} | {_pct(p.get('five_star_pain'))} "
            f"| {_pct(p['unsupported'])} | {r['seconds']:.0f} |"
        )
    print()
    for r in results:
        if "labels" not in r:
            continue
        q = r["labels"]
        print(
            f"**{r['name']}: labels** {len(q['flagged'])} of {q['labels']} hassle labels name no "
            f"problem ({_pct(len(q['flagged']) / q['labels'] if q['labels'] else float('nan'))}); "
            f"{len(q['one_word'])} are one word; {_pct(q['generic_share'])} of the clustered "
            "pain points are in hassles ranked too unspecific."
        )
        print()
        for level, label, problems in q["flagged"]:
            print(f"- {level} {label!r}: {', '.join(problems)}")
        if q["one_word"]:
            print(f"- one-word labels: {', '.join(repr(w) for w in q['one_word'])}")
        print()
    for r in results:
        print(f"**{r['name']}: top {TOP_LABELS} labels**")
        print()
        for level in ("child", "parent"):
            top = [h for h in r["published"].hassles if h["level"] == level][:TOP_LABELS]
            shown = "; ".join(f"{h['label']} ({h['units']})" for h in top) or "(none)"
            print(f"- {level}ren (units): {shown}" if level == "child" else f"- parents: {shown}")
        if r.get("bertopic_labels"):
            print(f"- BERTopic (texts): {'; '.join(r['bertopic_labels'])}")
        print()
    if replayed:
        print(
            f"**twcs replay, one day a night** (D0 = {replayed['d0']}; big = child hassles "
            f"holding >= {BIG_HASSLE_SHARE:.0%} of the pain-point units in the window)"
        )
        print()
        print(
            "| night | day | tweets added | clustering | pain units | children | big | big kept "
            "| big new | big retired | merge-then-resplit | parents | parents kept "
            "| kept relabelled | s |"
        )
        print("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in replayed["nights"]:
            print(
                f"| {n['night']} | {n['day']} | {n['added']:,} | {n['clustering']} "
                f"| {n['units_in']:,} "
                f"| {n['children']} | {n['big']} | {n.get('kept', '–')} | {n['new']} "
                f"| {n.get('retired', '–')} | {len(n['resplit'])} | {n['parents']} "
                f"| {n.get('parents_kept', '–')} | {len(n['relabelled']) if 'relabelled' in n else '–'} "
                f"| {n['seconds']:.0f} |"
            )
        print()
        for n in replayed["nights"]:
            for event in n["resplit"]:
                print(f"- night {n['night']}: merge-then-resplit {event}")
            for change in n.get("relabelled", []):
                print(f"- night {n['night']}: relabelled {change}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--eval",
        type=Path,
        default=Path(os.environ.get("EVAL_REAL_DIR") or ROOT.parent / "shared" / "eval" / "real"),
        help="the real sets (default: $EVAL_REAL_DIR, else ../shared/eval/real)",
    )
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--limit", type=int, default=None, help="seeded subsample per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-bertopic", action="store_true")
    parser.add_argument(
        "--nights", type=int, default=7, help="replay nights after night 0; 0: none"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a setting for every run, e.g. cluster.soft_threshold=0.4 (repeatable)",
    )
    parser.add_argument(
        "--perturb",
        type=int,
        default=0,
        metavar="N",
        help="rerun each labelled set N times, each leaving a seeded --perturb-share of its "
        "rows out, and print the spread of the scores (the noise floor of a comparison)",
    )
    parser.add_argument("--perturb-share", type=float, default=0.005)
    parser.add_argument("--markdown", action="store_true", help="(tables are always markdown)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the warehouses here (default: temporary)"
    )
    args = parser.parse_args()
    if not args.eval.is_dir():
        sys.exit(f"{args.eval}: not found; pass --eval with the folder of the real sets")
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        sys.exit(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (
        f"bench/realworld.py, {today()}, commit {git_revision()}\n"
        f"machine: {machine()}; load average before: {load_before}\n"
        f"command: python bench/realworld.py {' '.join(sys.argv[1:])}"
    )
    from prefect import flow
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    @flow
    def warm_up() -> None:
        """Start the temporary API server before anything runs."""

    temporary = None
    if args.workdir:
        workroot = args.workdir.resolve()
        shutil.rmtree(workroot, ignore_errors=True)
        workroot.mkdir(parents=True)
    else:
        temporary = tempfile.TemporaryDirectory(prefix="hasslemap-realworld-")
        workroot = Path(temporary.name)
    results, replayed, embedder_box = [], None, []
    perturbed: dict[str, list[dict]] = {}
    try:
        with prefect_test_harness(server_startup_timeout=600):
            warm_up()
            os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
            for name in names:
                if name == "twcs" and args.nights > 0:
                    continue  # scored on the replay's last night, below
                results.append(run_set(SETS[name], args, workroot / "sets", embedder_box))
                for k in range(1, args.perturb + 1) if SETS[name].reasons else ():
                    drop = (args.perturb_share, k)
                    perturbed.setdefault(name, []).append(
                        run_set(SETS[name], args, workroot / "sets", embedder_box, drop)
                    )
            if "twcs" in names and args.nights > 0:
                replayed = replay(args, workroot)
                seconds = sum(n["seconds"] for n in replayed["nights"])
                channel = channel_for(SETS["twcs"].channel)
                results.append(
                    score_set(replayed["rows"], replayed["published"], channel, seconds, args, [])
                )
    finally:
        if temporary:
            temporary.cleanup()
    print_report(results, replayed, header)
    if perturbed:
        print_spread(results, perturbed, args.perturb_share)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
