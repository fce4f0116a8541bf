"""The PII acceptance test (issue 11, #10): plant every listed kind, run the real nightly flow,
then scan every published artifact for the planted values."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from conftest import WebhookServer, copy_workspace, demo_sources, review_source

pytestmark = pytest.mark.e2e

# kind -> the planted values (the example, then one of ours), as written in the
# corpus; each must be found in no published artifact (case-insensitive).
PLANTED: dict[str, tuple[str, ...]] = {
    "phone without separators": ("5551234567", "4155550199"),
    "7-digit phone": ("555-1234", "867-5309"),
    # Each word alone too: a label "tell jane" leaks. ("Doe" alone is not looked for: the demo
    # data has a typo "i'm doe wtih Nimbus".)
    "name": ("Jane Doe", "Marcus Whitfield", "Jane", "Marcus", "Whitfield"),
    "iban": (
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "gb82 west 1234 5698 7654 32",
    ),
    "bank account": ("12345678", "0123-4567-89"),
    "street address": ("742 Evergreen Terrace", "221B Baker Street"),
    "ssn": ("536-22-8471", "478-31-2065"),
    "passport": ("533380006", "AB1234567"),
    "card with dots": ("4111.1111.1111.1111", "5500.0000.0000.0004"),
    "spelled-out email": ("bob at example dot com", "jane [at] mail-host [dot] co [dot] uk"),
    "password": ("hunter2!", "Tr0ub4dor&3"),
    "birth date": ("12/03/1985", "1985-03-12"),
    "email as customer id": ("jane.doe@example.com", "m.whitfield@mail-host.co.uk"),
}
# A value counts where it stands as a whole (not inside a longer word or number), also
# without its spaces ("GB82WEST...") and as the HTML report escapes it ("&amp;").
DETECTORS = {
    value: re.compile(
        "|".join(
            rf"(?<!\w){re.escape(form)}(?!\w)"
            for form in {value, value.replace(" ", ""), value.replace("&", "&amp;")}
        ),
        re.IGNORECASE,
    )
    for values in PLANTED.values()
    for value in values
}

# The hassle whose label names a person: the same complaint, worded 36 ways.
CALL_JANE = [
    f"{opener} call Jane Doe on the hotline, {ending}"
    for opener in (
        "The hotline keeps telling me to",
        "Support said I must",
        "I was told again to",
        "Every agent says to",
        "The app tells me to",
        "Once more I had to",
    )
    for ending in (
        "and nobody ever picks up.",
        "but it just rings out every time.",
        "and I waited an hour for nothing.",
        "and it is always engaged.",
        "and nobody calls back, so annoying.",
        "and the line drops after ten minutes.",
    )
]
# Every kind again, in comments of their own (and the customer ids beside them).
PII_TEXTS = [
    "Logged out again. Call me on 5551234567 or 4155550199, I am fed up.",
    "App crashed twice, ring 555-1234 or my cell 867-5309 after six.",
    "Hi, my name is Marcus Whitfield and the refund never came.",
    "Refund it to GB82 WEST 1234 5698 7654 32 or iban DE89370400440532013000 please.",
    "Wrong refund again, my iban is gb82 west 1234 5698 7654 32 not the old one.",
    "They debited account 12345678 twice and account number 0123-4567-89 once, awful.",
    "The app logs me out every hour and nobody answers.\n\nMarcus",
    "The parcel went to 742 Evergreen Terrace instead of 221B Baker Street, again late.",
    "Why does the form want my SSN 536-22-8471? My wife's is 478-31-2065, also rejected.",
    "The app rejected passport number 533380006 and my UK passport AB1234567, terrible.",
    "Charged twice on card 4111.1111.1111.1111 and then on 5500.0000.0000.0004.",
    "Nobody answers email, write to bob at example dot com or jane [at] mail-host [dot] co [dot] uk.",
    "Login fails with PW: hunter2! and my password is Tr0ub4dor&3 on the other account.",
    "Age check failed: I was born on 12/03/1985, DOB: 1985-03-12 on the form. Awful.",
]
CUSTOMERS = ["jane.doe@example.com", "m.whitfield@mail-host.co.uk"]
BAD_DATE = "born 12/03/1985 call 5551234567"  # a date field holding PII: quarantined, echoed


def write_corpus(path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "author", "rating", "title", "body", "date", "product"])
        for n, text in enumerate(CALL_JANE):
            out.writerow(
                [
                    f"HOT{n}",
                    CUSTOMERS[n % 2] if n < 4 else f"cust-9{n:03d}",
                    1,
                    "",
                    text,
                    f"2026-11-{1 + n % 19:02d}T09:00:00Z",
                    "Nimbus Hub",
                ]
            )
        for n, text in enumerate(PII_TEXTS):
            out.writerow(
                [
                    f"PII{n}",
                    CUSTOMERS[n % 2],
                    1,
                    "Complaint",
                    text,
                    "2026-11-18T10:00:00Z",
                    "Nimbus Plus",
                ]
            )
        out.writerow(["BAD1", CUSTOMERS[0], 2, "", "x", BAD_DATE, "Nimbus Hub"])


def snapshot_dump(path: Path) -> dict[str, str]:
    """Every table and view of the analyst snapshot, as text."""
    with duckdb.connect(str(path), read_only=True) as conn:
        names = [
            n
            for (n,) in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        return {
            n: json.dumps(conn.execute(f'SELECT * FROM "{n}"').fetchall(), default=str)
            for n in names
        }


def leaks(text: str) -> list[str]:
    return [value for value, detector in DETECTORS.items() if detector.search(text)]


def test_no_published_artifact_holds_planted_pii(
    nightly_demo, demo_dir, tmp_path, webhook: WebhookServer
):
    from flows.nightly import nightly

    folder, _, _ = nightly_demo
    corpus = tmp_path / "pii.csv"
    write_corpus(corpus)
    sources = [*demo_sources(demo_dir), review_source(corpus, "pii_reviews")]
    config = copy_workspace(folder, tmp_path / "work", sources)
    reports = tmp_path / "reports"
    snapshot = tmp_path / "analyst.duckdb"
    config.write_text(
        config.read_text()
        + f"report:\n  out_dir: {reports}\n  top: 100\n  quotes: 5\n"
        + f"snapshot:\n  path: {snapshot}\n"
        + f"alerts:\n  webhook_url: {webhook.url}/hook\n  max_per_run: 100\n  new_min_fresh_share: 0.0\n"
    )
    # Alerts announce each hassle once: let this run announce everything again.
    with duckdb.connect(str(tmp_path / "work" / "warehouse.duckdb")) as conn:
        conn.execute("DELETE FROM alerts_sent")

    result = nightly(str(config))

    with duckdb.connect(str(tmp_path / "work" / "warehouse.duckdb"), read_only=True) as conn:
        loaded = conn.execute(
            "SELECT count(*) FROM comments WHERE source = 'pii_reviews'"
        ).fetchone()[0]
        quarantined = conn.execute(
            "SELECT reason FROM rejected WHERE source = 'pii_reviews'"
        ).fetchall()
        labels = conn.execute(
            "SELECT label, keyphrases FROM hassles WHERE status <> 'retired'"
        ).fetchall()
        ranking = conn.execute("SELECT label FROM hassle_rankings").fetchall()
        alert_rows = conn.execute("SELECT payload FROM alerts_sent").fetchall()
    # The corpus went in as planned: every good row loaded, the bad date quarantined (its
    # reason echoing the field), and the "call Jane Doe" complaint formed a hassle (labelled
    # "doe on the hotline" before names were kept out of labels).
    assert loaded == len(CALL_JANE) + len(PII_TEXTS)
    assert len(quarantined) == 1
    hotline = [label for label, phrases in labels if "hotline" in label + " ".join(phrases)]
    assert hotline, f"the planted complaint formed no hassle: {labels}"
    assert webhook.bodies(), "the alerts were sent"

    artifacts: dict[str, str] = {
        f"report {p.name}": p.read_text(encoding="utf-8") for p in sorted(reports.iterdir())
    }
    artifacts |= {f"snapshot {n}": dump for n, dump in snapshot_dump(snapshot).items()}
    artifacts["hassle labels and keyphrases"] = json.dumps(labels)
    artifacts["ranking labels"] = json.dumps(ranking)
    artifacts["alert payloads (sent)"] = json.dumps(webhook.bodies())
    artifacts["alert payloads (recorded)"] = json.dumps(alert_rows, default=str)
    artifacts["run result and artifacts"] = json.dumps(result, default=str)
    assert {
        "report hasslemap-report.html",
        "report hasslemap-report.md",
        "report hasslemap-report.csv",
    } <= set(artifacts)
    assert {"snapshot rejected", "snapshot comments", "snapshot v_customer_journeys"} <= set(
        artifacts
    )

    found = {name: leaks(text) for name, text in artifacts.items()}
    by_kind = {
        kind: sorted({name for name, hits in found.items() for v in values if v in hits})
        for kind, values in PLANTED.items()
    }
    assert by_kind == {kind: [] for kind in PLANTED}, by_kind
