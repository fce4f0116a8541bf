"""The ``hasslemap`` command line."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402

from config import ConfigError, Settings, load_settings  # noqa: E402
from flows import progress  # noqa: E402

app = typer.Typer(
    help="hasslemap: rank the hassles your customers write about.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings file (default: config/hasslemap.yaml)."),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        console.print(f"[bold red]Configuration error[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None


class RichProgress:
    """Draws one progress line per step with rich."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def start(self, key: str, description: str, total: float | None) -> None:
        """Add a line for a step."""
        self.tasks[key] = self.bar.add_task(description, total=total)

    def advance(self, key: str, amount: float) -> None:
        """Move a step's line on."""
        if key in self.tasks:
            self.bar.advance(self.tasks[key], amount)

    def finish(self, key: str, description: str | None = None) -> None:
        """Mark a step's line done."""
        if key in self.tasks:
            task = self.bar.tasks[self.tasks[key]]
            self.bar.update(
                self.tasks[key],
                total=task.completed or 1,
                completed=task.completed or 1,
                description=description or task.description,
            )


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the nightly flow once, with progress, and print a summary."""
    settings = _settings(config)
    from flows.nightly import nightly
    from flows.prefect_server import start_temporary_server

    start_temporary_server()  # dies with this process, even on kill -9

    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with bar:
        progress.install(RichProgress(bar))
        try:
            result = nightly(config_path=str(config) if config else None)
        finally:
            progress.install(None)
    _print_summary(result, settings)


def _print_summary(result: dict[str, Any], settings: Settings) -> None:
    ingest = result["stages"]["ingest"]
    table = Table(title="Ingest", title_justify="left")
    for column in (
        "source",
        "files read",
        "unchanged",
        "records",
        "usable",
        "quarantined",
        "repaired",
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    for name, stats in ingest["sources"].items():
        table.add_row(
            name,
            f"{stats['files_read']:,}",
            f"{stats['files_skipped']:,}",
            f"{stats['records_read']:,}",
            f"{stats['records_usable']:,}",
            f"{stats['quarantined']:,}",
            f"{stats['repaired']:,}",
        )
    console.print(table)
    console.print(
        f"comments: [bold]{ingest['comments_new']:,}[/] new, "
        f"[bold]{ingest['comments_updated']:,}[/] updated, "
        f"[bold]{ingest['comments_total']:,}[/] in total; "
        f"{ingest['rejected_rows']:,} rows added to `rejected`"
    )
    if "enrich" in result["stages"]:
        _print_enrich_summary(result["stages"]["enrich"], settings)
    if "cluster" in result["stages"]:
        _print_cluster_summary(result["stages"]["cluster"])
    console.print(f"run id: {result['run_id']}")
    console.print(f"warehouse: [bold]{result['warehouse']}[/]")
    console.print(
        'query it:  hasslemap sql "select rank, label, total_score from v_latest_hassles"',
        highlight=False,
    )
    if result["stages"].get("rank", {}).get("hassles_ranked"):
        _print_top_hassles(settings, settings.report.top)
    if report := result["stages"].get("publish", {}).get("report"):
        console.print(f"report: [bold]{report}[/]", soft_wrap=True)


def _print_enrich_summary(enrich: dict[str, Any], settings: Settings) -> None:
    from flows.enrich import load_enrich_config
    from warehouse.connection import open_readonly

    console.print(
        f"enrich: {enrich['comments_enriched']:,} comments, {enrich['units_written']:,} sentences, "
        f"{enrich['texts_embedded']:,} texts embedded, {enrich['tags_written']:,} tags "
        f"({enrich['unsupported_language']:,} comments in an unsupported language)"
    )
    taxonomy = load_enrich_config(settings)
    conn = open_readonly(Path(settings.warehouse))
    try:
        counts = {
            (stage, theme): n
            for stage, theme, n in conn.execute(
                "SELECT stage, theme, count(*) FROM tags "
                "WHERE subject_kind = 'unit' AND is_pain_point GROUP BY ALL"
            ).fetchall()
        }
    finally:
        conn.close()
    themes = [t.key for t in taxonomy.themes] + ["unassigned"]
    table = Table(title="Pain points by journey stage and hassle theme", title_justify="left")
    table.add_column("stage")
    for theme in themes:
        table.add_column(theme.replace("_", " "), justify="right")
    for stage in [s.key for s in taxonomy.stages] + ["unassigned"]:
        table.add_row(stage, *(f"{counts.get((stage, theme), 0):,}" or "" for theme in themes))
    # Ten stages by ten columns need more than the 80 columns a pipe reports.
    Console(width=max(console.width, 150)).print(table)


def _print_cluster_summary(counts: dict[str, Any]) -> None:
    if counts.get("skipped"):
        console.print(
            "cluster: the window is unchanged since the last run; hassles kept as they are"
        )
    else:
        console.print(
            f"cluster: {counts['units_in']:,} pain points, {counts['hassles']:,} hassles "
            f"({counts['hassles_new']:,} new, {counts['hassles_retired']:,} retired), "
            f"coverage {counts['coverage']:.0%}"
        )


def _print_top_hassles(settings: Settings, top: int = 10) -> None:
    from warehouse.connection import open_readonly

    conn = open_readonly(Path(settings.warehouse))
    try:
        rows = conn.execute(
            "SELECT rank, hassle_id, label, stage, theme, total_score, customers, trend, change "
            "FROM v_latest_hassles ORDER BY rank LIMIT ?",
            [top],
        ).fetchall()
    finally:
        conn.close()
    table = Table(title=f"Top {len(rows)} hassles to eliminate first", title_justify="left")
    for column in ("#", "id", "hassle", "stage", "theme", "score", "customers", "trend", "change"):
        table.add_column(
            column, justify="right" if column in ("#", "score", "customers") else "left"
        )
    for rank, hassle_id, label, stage, theme, score, customers, trend, change in rows:
        table.add_row(
            str(rank),
            hassle_id,
            label,
            stage or "",
            theme or "",
            f"{100 * score:.0f}",
            f"{customers:,}",
            trend,
            change,
        )
    Console(width=max(console.width, 140)).print(table)


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Serve the nightly flow on its schedule (schedule.cron, schedule.timezone) until stopped."""
    settings = _settings(config)
    from flows.nightly import serve_nightly

    console.print(
        f"serving deployment [bold]nightly/{settings.schedule.deployment}[/] on "
        f"'{settings.schedule.cron}' ({settings.schedule.timezone}); Ctrl+C stops it",
        highlight=False,
    )
    serve_nightly(str(config) if config else None)


@app.command("demo-data")
def demo_data(
    config: ConfigOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: demo.out_dir).")
    ] = None,
    comments: Annotated[int | None, typer.Option(help="Base comments to write.")] = None,
    days: Annotated[int | None, typer.Option(help="Days the comments span.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    extra_days: Annotated[int, typer.Option(help="Also write this many newer days.")] = 0,
    bad_records: Annotated[
        bool, typer.Option(help="Include a few deliberately bad records.")
    ] = True,
) -> None:
    """Write a realistic, seeded sample of reviews, tickets and survey comments."""
    settings = _settings(config)
    from flows.demo import DemoSpec, write_demo_data

    spec = DemoSpec(
        n_comments=comments or settings.demo.comments,
        days=days or settings.demo.days,
        seed=settings.demo.seed if seed is None else seed,
        extra_days=extra_days,
        bad_records=bad_records,
    )
    target = out or settings.demo.out_dir
    with console.status(f"writing demo data to {target}"):
        summary = write_demo_data(target, spec)
    counts = ", ".join(f"{count:,} {channel}" for channel, count in summary.counts.items())
    console.print(f"demo data: {counts} in [bold]{summary.out_dir}[/]")
    console.print(
        f"{summary.customers:,} customers, {summary.cross_channel_customers:,} of them in more "
        "than one channel"
    )


@app.command()
def report(
    config: ConfigOption = None,
    top: Annotated[int | None, typer.Option(help="Hassles to show (default: report.top).")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="Only these channels (review, ticket, survey).")
    ] = None,
    stage: Annotated[list[str] | None, typer.Option(help="Only hassles in these stages.")] = None,
    product: Annotated[
        list[str] | None, typer.Option(help="Only comments on these products.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder (default: report.out_dir).")] = None,
) -> None:
    """Write the ranked-hassle report (HTML, Markdown, CSV) from the warehouse, with filters."""
    settings = _settings(config)
    from flows.enrich import load_enrich_config
    from flows.publish import build_report
    from flows.report.render import write_report
    from warehouse.connection import open_readonly
    from warehouse.ranking import ReportFilter, latest_completed_run

    taxonomy = load_enrich_config(settings)
    stages = {s.key for s in taxonomy.stages}
    for value in stage or []:
        if value not in stages:
            console.print(
                f"[bold red]Unknown stage[/] {value!r}: use one of {', '.join(sorted(stages))}",
                highlight=False,
            )
            raise typer.Exit(code=2)
    for value in channel or []:
        if value not in ("review", "ticket", "survey"):
            console.print(f"[bold red]Unknown channel[/] {value!r}: use review, ticket or survey")
            raise typer.Exit(code=2)
    if since and until and since > until:
        console.print("[bold red]--since is after --until[/]")
        raise typer.Exit(code=2)
    filters = ReportFilter(
        since=since.date() if since else None,
        until=until.date() if until else None,
        channels=tuple(channel or ()),
        stages=tuple(stage or ()),
        products=tuple(product or ()),
    )
    try:
        conn = open_readonly(Path(settings.warehouse))
    except FileNotFoundError as exc:
        console.print(f"[bold red]No warehouse[/] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    try:
        run_id = latest_completed_run(conn)
        data = build_report(
            conn, settings, taxonomy, run_id=run_id or "none", filters=filters, top=top
        )
    finally:
        conn.close()
    if data is None:
        console.print("[bold red]Nothing ranked yet[/]: run `hasslemap run` first")
        raise typer.Exit(code=1)
    paths = write_report(data, out or settings.report.out_dir)
    console.print(f"{len(data.hassles)} hassles; filters: {data.filters or 'none'}")
    for fmt, path in paths.items():
        console.print(f"{fmt}: [bold]{path.resolve()}[/]", soft_wrap=True)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    config: ConfigOption = None,
    max_rows: Annotated[int, typer.Option(help="Rows to show at most.")] = 50,
    live: Annotated[
        bool, typer.Option("--live", help="Query the live warehouse, not the analyst snapshot.")
    ] = False,
) -> None:
    """Run a read-only SQL query against the analyst snapshot (or the warehouse) and print it."""
    import duckdb

    from warehouse.connection import open_readonly

    settings = _settings(config)
    # Analysts read the snapshot: it is never locked by a run. --live reads the warehouse.
    path = Path(settings.warehouse) if live else settings.snapshot_path
    if not live and not path.is_file():
        path = Path(settings.warehouse)
    try:
        conn = open_readonly(path)
    except FileNotFoundError as exc:
        console.print(f"[bold red]No warehouse[/] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    try:
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(max_rows + 1)
    except duckdb.Error as exc:
        console.print(f"[bold red]SQL error[/] {exc}", highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        conn.close()
    table = Table(*names)
    for row in rows[:max_rows]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if len(rows) > max_rows:
        console.print(f"(first {max_rows} rows shown; use --max-rows for more)")


if __name__ == "__main__":
    app()
