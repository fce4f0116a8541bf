"""Scale-out of the enrich stage on an existing Dask cluster, through prefect-dask.

Only the heavy, pure parts of enrich run on the cluster: :func:`compute_units_partition`
(spaCy sentences, language, severity) and :func:`embed_partition` (sentence vectors). They
take plain data and return plain rows and arrays; they never open the warehouse. The flow
process (:func:`flows.enrich.enrich_on_dask`) submits them, writes what comes back to DuckDB
and tags locally. Each worker process loads its models once, on its first partition, and keeps
them (:func:`flows.enrich.worker_models`).

Workers need the project installed (``pip install -e .`` or the wheel) with the same models,
and must reach the Prefect API the flow uses. See docs/scale-out.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from config import Settings
from config.taxonomy import Taxonomy
from flows.enrich import compute_units, embed_pairs
from warehouse.enrichment import PendingComment

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
    boilerplate: dict[str, frozenset[str]] | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Sentence units, language and severity for one partition of comments, on a worker.

    Args:
        comments: The partition's pending comments.
        settings: The settings of the run.
        taxonomy: The taxonomy whose patterns are matched in each sentence.
        stamp: The ``enriched_at`` time to record.
        boilerplate: Per source, its boilerplate keys (``flows.enrich.source_boilerplate``).

    Returns:
        ``(enrichment_rows, unit_rows)`` for ``warehouse.enrichment.replace_units``.
    """
    return compute_units(comments.items, settings, taxonomy, stamp=stamp, boilerplate=boilerplate)


@task(name="embed_partition", cache_policy=NO_CACHE, retries=1)
def embed_partition(
    pairs: Partition[tuple[str, str]], settings: Settings
) -> tuple[list[str], np.ndarray]:
    """Vectors for one partition of (text_hash, text) pairs, on a worker.

    Args:
        pairs: The texts to embed, each with its hash.
        settings: The settings of the run (``settings.models`` picks the embedder).

    Returns:
        The hashes and a float32 array of their vectors, for
        ``warehouse.enrichment.insert_embeddings``.
    """
    return embed_pairs(pairs.items, settings)
