"""Scale-out of the enrich stage on an existing Dask cluster, through prefect-dask.

Only the heavy, pure parts of enrich run on the cluster: :func:`compute_units_partition`
(spaCy sentences, language, severity) and :func:`embed_partition` (sentence vectors). They
take plain data and return plain rows and arrays; they never open the warehouse. The
:class:`DaskExecutor` submits them for the enrich tasks (:mod:`flows.enrich`), which write what
comes back to DuckDB and tag locally. Each worker process loads its models once, on its first
partition, and keeps them (:func:`flows.enrich_models.worker_models`).

Workers need the project installed (``pip install -e .`` or the wheel) with the same models,
and must reach the Prefect API the flow uses. See docs/scale-out.md.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed

from config import Settings
from config.taxonomy import Taxonomy
from flows.enrich_models import encode_texts, worker_models
from flows.executor import Boilerplate, Comments, EmbedResults, Split, SplitResults, Texts, Vectors
from nlp.enrich import compute_units
from warehouse.core import now
from warehouse.enrichment import PendingComment, TextToEmbed

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

T = TypeVar("T")


class Partition(Generic[T]):
    """One partition's items, opaque to Prefect and Dask on their way to a worker.

    Prefect walks every task argument looking for futures, and Dask tokenizes every argument
    for the task's key (by pickling objects it does not know); for thousands of items each
    costs more than sending them (measured: 0.5 to 2 s per 5,000 comments, in the flow
    process, for every partition). Neither looks inside this object, and its token is a random
    id. Prefect's ``quote()`` is not used instead: Dask rebuilds a quote's contents and turns
    the dataclasses inside it into plain tuples.
    """

    __slots__ = ("items", "token")

    def __init__(self, items: Iterable[T]) -> None:
        self.items: list[T] = list(items)
        self.token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        """Dask's key for this argument: a random id, not a hash of the items."""
        return self.token

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"Partition({len(self.items)} items)"


def dask_task_runner(settings: Settings) -> DaskTaskRunner | None:
    """The task runner for the configured Dask cluster, or None when none is configured.

    Args:
        settings: The settings; ``settings.scale.dask_address`` is the scheduler's address,
            e.g. ``tcp://10.0.0.5:8786``.

    Returns:
        A ``DaskTaskRunner`` that connects to that scheduler (it never starts a cluster of its
        own), or None when ``scale.dask_address`` is not set.
    """
    from prefect_dask import DaskTaskRunner  # dask and distributed: only when configured

    address = settings.scale.dask_address
    if not address:
        return None
    return DaskTaskRunner(address=address)


@task(name="compute_units_partition", cache_policy=NO_CACHE, retries=1)
def compute_units_partition(
    comments: Partition[PendingComment],
    settings: Settings,
    taxonomy: Taxonomy,
    stamp: datetime,
    boilerplate: Boilerplate | None = None,
) -> Split:
    """Sentence units, language and severity for one partition of comments, on a worker.

    Args:
        comments: The partition's pending comments.
        settings: The settings of the run.
        taxonomy: The taxonomy whose patterns are matched in each sentence.
        stamp: The ``enriched_at`` time to record.
        boilerplate: Per source, its boilerplate keys (``flows.enrich.source_boilerplate``).

    Returns:
        ``(enrichments, units)`` for ``warehouse.enrichment.replace_units``.
    """
    models = worker_models(settings)
    with models.lock:  # threads of one worker share the models: load them once
        models.matcher(taxonomy)
    return compute_units(
        comments.items, settings, taxonomy, stamp=stamp, models=models, boilerplate=boilerplate
    )


@task(name="embed_partition", cache_policy=NO_CACHE, retries=1)
def embed_partition(texts: Partition[TextToEmbed], settings: Settings) -> Vectors:
    """Vectors for one partition of texts with no stored vector, on a worker.

    Args:
        texts: The texts to embed, each with its hash.
        settings: The settings of the run (``settings.models`` picks the embedder).

    Returns:
        The hashes and a float32 array of their vectors, for
        ``warehouse.enrichment.insert_embeddings``.
    """
    models = worker_models(settings)
    with models.lock:
        models.embedder  # noqa: B018  (load it once, under the lock)
    return encode_texts(models.embedder, texts.items)


def in_window(
    submit: Callable[[T], PrefectFuture[Any]], items: Iterable[T], window: int
) -> Iterator[tuple[T, Any]]:
    """Submit ``items`` with at most ``window`` in flight; yield (item, result) as each ends.

    Args:
        submit: Submits one item to the flow's task runner and returns its future.
        items: The work, e.g. partitions of comments.
        window: Most submissions in flight at once; bounds what the scheduler and the
            workers hold before this process has written it.

    Yields:
        Each item with its task's result, in the order the tasks complete.

    Raises:
        Exception: The error of a task that failed after its retries.
    """
    queue = iter(items)
    in_flight: list[tuple[PrefectFuture[Any], T]] = []

    def top_up() -> None:
        for item in itertools.islice(queue, max(1, window) - len(in_flight)):
            in_flight.append((submit(item), item))

    top_up()
    while in_flight:
        done = next(as_completed([future for future, _ in in_flight]))
        position = next(i for i, (future, _) in enumerate(in_flight) if future is done)
        _, item = in_flight.pop(position)
        yield item, done.result()
        top_up()


def cluster_window() -> int:
    """Partitions to keep in flight: twice the Dask cluster's worker threads (at least 2)."""
    context = FlowRunContext.get()
    client = getattr(getattr(context, "task_runner", None), "client", None)
    threads = sum(client.nthreads().values()) if client is not None else 0
    return max(2, 2 * threads)


class DaskExecutor:
    """Computes enrich's partitions on the Dask cluster the flow's task runner is connected to.

    Use it inside a flow run with a ``DaskTaskRunner`` (:func:`dask_task_runner`). Each
    partition is a task; at most :func:`cluster_window` are in flight, and each result is
    yielded as soon as it comes back, so a run that stops half way keeps what was written.
    """

    place = "Dask"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.address = settings.scale.dask_address
        self.split_batch = settings.scale.partition_comments

    def plan(self, comments: int, parts: int) -> str | None:
        """Say how many partitions go to which cluster."""
        return (
            f"{comments} comments in {parts} partitions on {self.address} "
            f"({cluster_window()} in flight)"
        )

    def split(self, parts: Comments, taxonomy: Taxonomy, boilerplate: Boilerplate) -> SplitResults:
        """Yield each partition of comments with its rows, computed on the cluster."""

        def submit(part: Sequence[PendingComment]) -> PrefectFuture[Any]:
            return compute_units_partition.submit(
                Partition(part), self.settings, taxonomy, now(), boilerplate
            )

        yield from in_window(submit, parts, cluster_window())

    def embed(self, parts: Texts) -> EmbedResults:
        """Yield each partition of texts with its vectors, computed on the cluster."""

        def submit(part: Sequence[TextToEmbed]) -> PrefectFuture[Any]:
            return embed_partition.submit(Partition(part), self.settings)

        yield from in_window(submit, parts, cluster_window())
