"""The ``hasslemap`` command line."""

from __future__ import annotations

import os
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

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
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402
from rich.text import Text  # noqa: E402

from config import ConfigError, Settings, load_settings  # noqa: E402
from config.base import ConfigWarning  # noqa: E402
from config.channels import CHANNEL_NAMES, channel_names  # noqa: E402
from config.taxonomy import load_enrich_config  # noqa: E402
from flows import progress  # noqa: E402
from flows.summary import (  # noqa: E402
    cluster_line,
    duplicates_note,
    enrich_line,
    pain_point_table,
    run_warnings,
)
from flows.terminal import escape, shown  # noqa: E402

if TYPE_CHECKING:
    import duckdb

    from config.taxonomy import Taxonomy

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
    import flows.sources  # noqa: F401 - every source type registers before the settings are read

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigWarning)
        try:
            settings = load_settings(config)
        except ConfigError as exc:
            _fail("Configuration error", str(exc), code=2)
    for warning in caught:
        if issubclass(warning.category, ConfigWarning):
            _warn(str(warning.message))
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return settings


def _fail(title: str, message: str, code: int = 1) -> NoReturn:
    """Print one clear error (customer text and paths printed as text) and exit."""
    console.print(f"[bold red]{title}[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)


def _warn(message: str) -> None:
    console.print(f"[bold yellow]Warning[/] {escape(message)}", highlight=False, soft_wrap=True)


def _taxonomy(settings: Settings) -> Taxonomy:
    try:
        return load_enrich_config(settings)
    except ConfigError as exc:
        _fail("Taxonomy error", str(exc), code=2)


def _open(
    path: Path, *, sandboxed: bool = False, hints: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a warehouse or snapshot read-only, or exit with one line saying why it cannot be.

    ``hints`` says what to do, per :class:`WarehouseUnavailable` kind (locked, damaged, denied).
    """
    from warehouse.connection import WarehouseUnavailable, open_readonly, open_sandboxed

    try:
        return open_sandboxed(path) if sandboxed else open_readonly(path)
    except FileNotFoundError as exc:
        _fail("No warehouse", str(exc))
    except WarehouseUnavailable as exc:
        hint = (hints or {}).get(exc.kind)
        _fail("Cannot open", f"{exc}; {hint}" if hint else str(exc))


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the nightly flow once, with progress, and print a summary."""
    settings = _settings(config)
    from flows.nightly import check_run_ready, nightly
    from warehouse.connection import WarehouseUnavailable, check_writable

    _taxonomy(settings)
    try:
        check_run_ready(settings)  # its warnings are logged by the flow, which checks again
    except ConfigError as exc:
        _fail("Configuration error", str(exc), code=2)
    try:
        check_writable(Path(settings.warehouse))  # the message says what to do
    except WarehouseUnavailable as exc:
        _fail("Cannot run", str(exc))

    from flows.prefect_server import run_failure, start_temporary_server

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
        progress.install(progress.RichProgress(bar))
        try:
            with warnings.catch_warnings():
                # Shown once above already, when the settings were read.
                warnings.simplefilter("ignore", ConfigWarning)
                result = nightly(config_path=str(config) if config else None)
        except WarehouseUnavailable as exc:  # taken since the check above: the flow says so
            _fail("Cannot run", str(exc))
        except Exception as exc:  # Prefect has logged the traceback above, or says why not
            _fail("Run failed", run_failure(exc))
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
            Text(name),
            f"{stats['files_read']:,}",
            f"{stats['files_skipped']:,}",
            f"{stats['records_read']:,}",
            f"{stats['records_usable']:,}",
            f"{stats['quarantined']:,}",
            f"{stats['repaired']:,}",
        )
    for name in ingest.get("sources_failed", {}):
        table.add_row(Text(name), Text("failed", style="red"))  # why: in the warnings
    console.print(table)
    console.print(
        f"comments: [bold]{ingest['comments_new']:,}[/] new, "
        f"[bold]{ingest['comments_updated']:,}[/] updated, "
        f"[bold]{ingest['comments_total']:,}[/] in total; "
        f"{ingest['rejected_rows']:,} rows added to `rejected`"
        + duplicates_note(ingest.get("duplicates_across_files", 0))
    )
    if "enrich" in result["stages"]:
        _print_enrich_summary(result["stages"]["enrich"], settings)
    if "cluster" in result["stages"]:
        console.print(cluster_line(result["stages"]["cluster"]))
    console.print(f"run id: {escape(str(result['run_id']))}")
    console.print(f"warehouse: [bold]{escape(result['warehouse'])}[/]")
    console.print(
        'query it:  hasslemap sql "select rank, label, total_score from v_latest_hassles"',
        highlight=False,
    )
    if result["stages"].get("rank", {}).get("hassles_ranked"):
        _print_top_hassles(settings, settings.report.top)
    if report := result["stages"].get("publish", {}).get("report"):
        console.print(f"report: [bold]{escape(str(report))}[/]", soft_wrap=True)
    for warning in run_warnings(result["stages"], settings):  # last: what cron mails ends here
        _warn(warning)


def _print_enrich_summary(enrich: dict[str, Any], settings: Settings) -> None:
    from warehouse.enrichment import pain_point_counts

    console.print(enrich_line(enrich))
    taxonomy = _taxonomy(settings)
    conn = _open(Path(settings.warehouse))
    try:
        counts = pain_point_counts(conn)
    finally:
        conn.close()
    # Ten stages by ten columns need more than the 80 columns a pipe reports.
    _print_wide(pain_point_table(taxonomy, counts), 150)


def _print_top_hassles(settings: Settings, top: int = 10) -> None:
    """The top hassles; with two levels, the top parents, each with its top children."""
    from flows.report.artifacts import SUMMARY_CHILDREN
    from flows.report.build import stored_top_hassles
    from flows.report.columns import CLI, Names, columns_for
    from warehouse.ranking import read_latest_ranking

    conn = _open(Path(settings.warehouse))
    try:
        hassles = stored_top_hassles(read_latest_ranking(conn), top, SUMMARY_CHILDREN)
    finally:
        conn.close()
    two_level = any(h.level == "parent" for h in hassles)
    title = f"Top {len(hassles)} hassles to eliminate first"
    if two_level:
        title = (
            f"Top {len(hassles)} hassle groups to eliminate first, each with its top "
            f"{SUMMARY_CHILDREN} specific hassles (↳, ranked among all specific hassles)"
        )
    table = Table(title=title, title_justify="left")
    columns, names = columns_for(CLI, two_level=two_level), Names.of(settings)
    for column in columns:
        table.add_column(column.short, justify="right" if column.numeric else "left")
    for h in hassles:
        for item, child in ((h, False), *((k, True) for k in h.children)):
            marks = {"label": "↳ "} if child else {}
            note = {"label": " (too unspecific to act on)"} if item.generic else {}
            # Labels are made of customers' words: Text() shows them as typed, never as markup.
            table.add_row(
                *(
                    Text(shown(marks.get(c.name, "") + c.cell(item, names) + note.get(c.name, "")))
                    for c in columns
                )
            )
    _print_wide(table, 140)


def _print_wide(table: Table, width: int) -> None:
    """Print ``table`` at least ``width`` columns wide (wider when the terminal is)."""
    Console(width=max(console.width, width)).print(table)


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Serve the nightly flow on its schedule (schedule.cron, schedule.timezone) until stopped.

    It needs a running Prefect server (PREFECT_API_URL), whose scheduler creates the runs.
    """
    settings = _settings(config)
    from flows.nightly import serve_nightly
    from flows.prefect_server import NoPrefectServer, require_prefect_server

    _taxonomy(settings)
    try:
        require_prefect_server()
    except NoPrefectServer as exc:
        _fail("Cannot serve", str(exc), code=2)
    console.print(
        f"serving deployment [bold]nightly/{escape(settings.schedule.deployment)}[/] on "
        f"'{escape(settings.schedule.cron)}' ({settings.schedule.timezone}); Ctrl+C stops it",
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
    with console.status(f"writing demo data to {escape(str(target))}"):
        summary = write_demo_data(target, spec)
    counts = ", ".join(f"{count:,} {channel}" for channel, count in summary.counts.items())
    console.print(f"demo data: {counts} in [bold]{escape(str(summary.out_dir))}[/]")
    console.print(
        f"{summary.customers:,} customers, {summary.cross_channel_customers:,} of them in more "
        "than one channel"
    )


@app.command()
def report(
    config: ConfigOption = None,
    top: Annotated[
        int | None, typer.Option(min=1, help="Hassles to show (default: report.top).")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help=f"Only these channels ({', '.join(CHANNEL_NAMES)}).")
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option(help="Only hassles in these stages (key or name).")
    ] = None,
    product: Annotated[
        list[str] | None, typer.Option(help="Only comments on these products.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder (default: report.out_dir).")] = None,
) -> None:
    """Write the ranked-hassle report (HTML, Markdown, CSV) from the warehouse, with filters."""
    settings = _settings(config)
    from flows.report.build import STALE_TAXONOMY, build_report
    from flows.report.checks import source_reading, unknown_products, why_nothing_matches
    from flows.report.render import write_report
    from warehouse.ranking import ReportFilter, latest_completed_run, read_products

    taxonomy = _taxonomy(settings)
    # A stage by its key or by the name the report shows ("usage" or "Everyday use").
    stages = {n.casefold(): s.key for s in taxonomy.stages for n in (s.key, s.name)}
    for value in stage or []:
        if value.casefold() not in stages:
            keys = ", ".join(sorted({*stages.values()}))
            _fail("Unknown stage", f"{value!r}: use one of {keys} (or its name)", code=2)
    for value in channel or []:
        if value not in CHANNEL_NAMES:
            _fail("Unknown channel", f"{value!r}: use {channel_names()}", code=2)
    if since and until and since > until:
        _fail("Dates", f"--since {since:%Y-%m-%d} comes after --until {until:%Y-%m-%d}", code=2)
    target = out or settings.report.out_dir
    if target.exists() and not target.is_dir():
        _fail("Not a folder", f"{target} is a file; --out (or report.out_dir) names a folder", 2)
    if reading := source_reading(target, settings):
        _fail("Refused", reading, code=2)
    filters = ReportFilter(
        since=since.date() if since else None,
        until=until.date() if until else None,
        channels=tuple(channel or ()),
        stages=tuple(stages[value.casefold()] for value in stage or ()),
        products=tuple(product or ()),
    )
    # Quotes are cut from the full comment text, which only the warehouse holds (the snapshot
    # keeps redacted text alone), so the report needs the warehouse, not the snapshot.
    conn = _open(
        Path(settings.warehouse),
        hints={
            "locked": "the report needs the warehouse; the running run rewrites the report in "
            f"{settings.report.out_dir} when it ends, or run `hasslemap report` again then"
        },
    )
    try:
        if unknown := unknown_products(filters.products, read_products(conn)):
            _fail("Unknown product", unknown, code=2)
        run_id = latest_completed_run(conn)
        data = build_report(
            conn, settings, taxonomy, run_id=run_id or "none", filters=filters, top=top
        )
        # A report of nothing would replace the last one: say why, and write none.
        if data is not None and not data.hassles and data.filters:
            _fail("Nothing to report:", why_nothing_matches(conn, filters))
    finally:
        conn.close()
    if data is None:
        _fail("Nothing ranked yet", "run `hasslemap run` first")
    if said := data.figures.get(STALE_TAXONOMY):
        _warn(f"stages and themes were {said}")
    paths = write_report(data, target)
    filters_text = "; ".join(f"{key}: {value}" for key, value in data.filters.items())
    counted = f"{len(data.hassles)} hassles"
    if data.two_level:
        children = sum(len(h.children) for h in data.hassles)
        counted = f"{len(data.hassles)} hassle groups with {children} specific hassles"
    console.print(f"{counted}; filters: {escape(filters_text or 'none')}", highlight=False)
    for fmt, path in paths.items():
        console.print(f"{fmt}: [bold]{escape(str(path.resolve()))}[/]", soft_wrap=True)


# A query may start with "--" (an SQL comment): take it as the query, not as an option.
@app.command(context_settings={"ignore_unknown_options": True})
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    config: ConfigOption = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Rows to show at most.")] = 50,
    live: Annotated[
        bool, typer.Option("--live", help="Query the live warehouse, not the analyst snapshot.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Also write every row of the result to this file: .csv, .parquet or .json."
        ),
    ] = None,
) -> None:
    """Run a read-only SQL query against the analyst snapshot (or the warehouse) and print it.

    The query can read that one database and nothing else: no other files, no COPY, no
    ATTACH, no settings. Results go to a file only through --out.
    """
    import duckdb

    from flows.sql_result import (
        QueryRefused,
        database_to_query,
        natural_width,
        result_table,
        run_query,
    )
    from warehouse.export import ExportError, export_target_problem, write_export

    settings = _settings(config)
    if out is not None:
        reports = [settings.report.out_dir / f"hasslemap-report.{x}" for x in ("html", "md", "csv")]
        own = [Path(settings.warehouse), settings.snapshot_path]
        if problem := export_target_problem(out, own, reports):
            _fail(*problem, code=2)
    path, hints = database_to_query(settings, live=live)
    conn = _open(path, sandboxed=True, hints=hints)
    try:
        found = run_query(conn, query, shown=max_rows + 1, export=out is not None)
    except duckdb.Error as exc:
        _fail("SQL error", str(exc))
    except QueryRefused as exc:
        _fail(exc.title, str(exc), code=exc.code)
    finally:
        conn.close()
    rows = found.rows
    table = result_table(found.names, rows[:max_rows])
    if console.is_terminal:
        console.print(table)
    else:  # a pipe or a file: every character of every cell, as wide as that takes
        _print_wide(table, natural_width(console, table))
    if len(rows) > max_rows:
        console.print(f"(first {max_rows} rows shown; use --max-rows for more)")
    if out is not None and found.table is not None:
        try:
            write_export(found.table, out, found.json_columns)
        except (OSError, ExportError) as exc:
            _fail("Cannot write", f"{out}: {exc}")
        console.print(f"wrote {found.table.num_rows:,} rows to [bold]{escape(str(out))}[/]")


@app.command("forget-source")
def forget_source(name: str, config: ConfigOption = None) -> None:
    """Delete a source the config no longer names (renamed, retired): its comments, records."""
    from flows.forget import CannotForget, forget_unconfigured_source
    from warehouse.connection import WarehouseUnavailable

    try:
        gone = forget_unconfigured_source(_settings(config), name)
    except CannotForget as exc:
        _fail("Cannot forget", str(exc), code=2)
    except WarehouseUnavailable as exc:
        _fail("Cannot open", str(exc))
    console.print(
        f"forgot source {escape(name)}: {gone.comments:,} comments, {gone.records:,} records "
        f"read, {gone.rejected:,} rejected rows; the next run clusters and ranks without them"
    )


if __name__ == "__main__":
    app()
