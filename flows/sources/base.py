"""The source-type contract: one class per kind of source, chosen by ``sources[].type``.

A source type lists what is new since its state and yields the records of each new item;
flows/sources/resource.py does the rest for every type alike (normalising, quarantining,
batching, landing with dlt), and flows/ingest.py knows only the source's name.

An *item* is what the type reads and remembers as a whole: a file for ``files``
(flows/sources/files.py), a page or a time slice for an API, a table partition for a
database. ``state`` is the type's own dict, kept by dlt between runs and saved only with the
records it landed, so an item counts as read only once its records are in the warehouse.

Adding a source type is one module with its settings (a :class:`config.SourceConfig`
subclass) and its class, registered together::

    class ApiSourceConfig(SourceConfig):
        type: Literal["api"] = "api"
        url: str

    @register_source_type("api", ApiSourceConfig)
    class ApiSource:
        def __init__(self, source: ApiSourceConfig, ingest: IngestSettings) -> None: ...
        def where(self) -> str: ...
        def list_new(self, state, stats) -> Iterator[SourceItem]: ...
        def read(self, item: SourceItem) -> Iterator[RawItem]: ...
        def mark_read(self, state, item: SourceItem) -> None: ...

and ``type: api`` with ``url:`` on a source in the settings. The module must be imported
before the settings are read (built-in types: imported by flows/sources/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from config import IngestSettings, SourceConfig
from config.sources import register_source_settings
from flows.sources.readers import RawItem
from flows.sources.records import Problem


@dataclass
class ReadStats:
    """What reading one source did; filled in while dlt extracts."""

    files_found: int = 0
    files_read: int = 0
    files_skipped: int = 0
    records_read: int = 0
    records_usable: int = 0
    quarantined: int = 0
    repaired: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    # Every item the source holds now, listed whole (a files source: each file, read or
    # skipped); None where a type cannot list everything (an API's pages), so nothing is gone.
    present: list[str] | None = None
    # Per item (a JSON Lines file, an API page) whose records carry keys of their own: the
    # mapped keys none of its records had, then the keys they did have (the first few).
    keys_absent: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    # Per item quarantined whole (a file without the mapped columns, unreadable, no JSON
    # Lines): its problem's code and reason. None of its records loaded.
    files_quarantined: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Per item with slashed dates: per order that reads them (``"other"``, ``"this"``,
    # ``"either"``: flows.sources.timestamps.date_order_of), how many and the first one.
    date_order: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # Per quarantine code: how many records (a file's own problems, line 0, are not one), and
    # the first one's item, line and reason.
    quarantine_examples: dict[str, list[Any]] = field(default_factory=dict)

    def count_date_order(self, item: str, order: str, value: str) -> None:
        """Tally a slashed date of ``item`` that ``order`` reads."""
        tally = self.date_order.setdefault(item, {}).setdefault(order, [0, value])
        tally[0] += 1

    def count(self, problem: Problem, item: str = "", line: int = 0) -> None:
        """Tally one problem by its code; a quarantine's first ``item`` and ``line`` too."""
        self.problems[problem.code] = self.problems.get(problem.code, 0) + 1
        if problem.fatal and line > 0:
            example = [0, item, line, problem.reason]
            self.quarantine_examples.setdefault(problem.code, example)[0] += 1


@dataclass(frozen=True)
class SourceItem:
    """One thing a source type reads as a whole (a file, an API page).

    Attributes:
        key: Its identity in the type's state (a file's URL).
        location: How ``comments.source_file`` and ``rejected.file`` name it.
        version: What changes when it changes (a file's time and size, with the settings).
        unreadable: Why it can't be read, when it can't; it is quarantined and tried again.
        handle: Whatever the type needs to read it (a dlt file item).
    """

    key: str
    location: str
    version: str
    unreadable: str | None = None
    handle: Any = None


class SourceType(Protocol):
    """A kind of source: lists what is new since its state, yields the records of each item."""

    def where(self) -> str:
        """Where it reads from, for messages (a path, a URL)."""
        ...

    def list_new(self, state: dict[str, Any], stats: ReadStats) -> Iterator[SourceItem]:
        """Yield the items not read yet or changed since ``state``; count what was listed."""
        ...

    def read(self, item: SourceItem) -> Iterator[RawItem]:
        """Yield the records of one item, numbered (line, row or position) within it.

        Raises:
            FileProblem: The whole item is unusable (quarantined with its reason).
            OSError: A transient failure: the load task is retried.
        """
        ...

    def mark_read(self, state: dict[str, Any], item: SourceItem) -> None:
        """Record in ``state`` that ``item`` was read to the end."""
        ...


SourceFactory = Callable[[Any, IngestSettings], SourceType]
_SOURCE_TYPES: dict[str, SourceFactory] = {}
_Factory = TypeVar("_Factory", bound=Callable[..., Any])


def register_source_type(name: str, settings: type[SourceConfig]) -> Callable[[_Factory], _Factory]:
    """Register a source type's class under ``name`` with its settings model."""

    def register(factory: _Factory) -> _Factory:
        register_source_settings(name, settings)
        _SOURCE_TYPES[name] = factory
        return factory

    return register


def open_source(source: SourceConfig, ingest: IngestSettings) -> SourceType:
    """The source type of ``source``, ready to list and read it.

    Raises:
        KeyError: No source type is registered under ``source.type``.
    """
    if source.type not in _SOURCE_TYPES:
        known = ", ".join(sorted(_SOURCE_TYPES))
        raise KeyError(f"unknown source type {source.type!r}; known types: {known}")
    return _SOURCE_TYPES[source.type](source, ingest)
