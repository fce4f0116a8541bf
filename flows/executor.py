"""Where enrich's two heavy steps run: one contract, two places.

The enrich tasks (:mod:`flows.enrich`) cut their work into partitions and hand them to an
:class:`EnrichExecutor`, then write each partition's rows as it comes back. The
:class:`LocalExecutor` computes them in this process, one after another;
``flows.scale.DaskExecutor`` computes them on a Dask cluster. Both call the same pure
functions (:func:`nlp.enrich.compute_units`, :func:`flows.enrich_models.encode_texts`) on the
same partitions, so both write the same rows.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

import numpy as np

from config.taxonomy import Taxonomy
from flows.enrich_models import Models, encode_texts
from nlp.enrich import CommentEnrichment, Unit, compute_units
from warehouse.core import now
from warehouse.enrichment import PendingComment, TextToEmbed

T = TypeVar("T")

Split = tuple[list[CommentEnrichment], list[Unit]]
"""What splitting a partition of comments gives: their enrichment rows and unit rows."""
Vectors = tuple[list[str], np.ndarray]
"""What embedding a partition of texts gives: their hashes and one float32 row each."""
Boilerplate = Mapping[str, Collection[str]]
Comments = Sequence[Sequence[PendingComment]]
"""Partitions of the comments to split."""
Texts = Sequence[Sequence[TextToEmbed]]
"""Partitions of the texts to embed."""
SplitResults = Iterator[tuple[Sequence[PendingComment], Split]]
EmbedResults = Iterator[tuple[Sequence[TextToEmbed], Vectors]]


PARALLEL_SPLIT_MIN = 1_000
"""Fewer comments than this are parsed in one process: starting more costs more than it saves."""
MAX_SPACY_PROCESSES = 4


def spacy_processes(setting: int, comments: int) -> int:
    """How many processes spaCy parses a partition of ``comments`` in, in this process.

    ``setting`` is ``enrich.spacy_processes``: a number is used as it is; 0 means one per CPU
    core (at most :data:`MAX_SPACY_PROCESSES`) for a partition of at least
    :data:`PARALLEL_SPLIT_MIN` comments. A daemonic process (a Dask worker) may not start
    processes, so it always parses in one.
    """
    if multiprocessing.current_process().daemon:
        return 1
    if setting:
        return setting
    if comments < PARALLEL_SPLIT_MIN:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_SPACY_PROCESSES))


def partitions(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Cut ``items`` into consecutive slices of at most ``size``."""
    return [items[first : first + size] for first in range(0, len(items), size)]


class EnrichExecutor(Protocol):
    """Runs enrich's partitions somewhere and yields each one's result as it is ready.

    Attributes:
        place: Shown in progress lines: None in this process, e.g. ``"Dask"`` elsewhere.
        split_batch: Comments per split partition.
    """

    place: str | None
    split_batch: int

    def plan(self, comments: int, parts: int) -> str | None:
        """A log line saying where the split runs, or None for nothing to say."""
        ...

    def split(self, parts: Comments, taxonomy: Taxonomy, boilerplate: Boilerplate) -> SplitResults:
        """Yield each partition of comments with its rows (:func:`nlp.enrich.compute_units`)."""
        ...

    def embed(self, parts: Texts) -> EmbedResults:
        """Yield each partition of texts with its vectors."""
        ...


class LocalExecutor:
    """Computes every partition in this process, in order, with this run's models.

    spaCy may parse a large partition in several processes (:func:`spacy_processes`): the
    split step is single-threaded, so on a machine with more than one core the others idle.
    """

    place = None

    def __init__(self, models: Models) -> None:
        self.models = models
        self.settings = models.settings
        self.split_batch = models.settings.enrich.batch_comments

    def plan(self, comments: int, parts: int) -> str | None:
        """Nothing to say: the work runs here."""
        return None

    def split(self, parts: Comments, taxonomy: Taxonomy, boilerplate: Boilerplate) -> SplitResults:
        """Yield each partition of comments with its rows, computed here."""
        for part in parts:
            rows = compute_units(
                part,
                self.settings,
                taxonomy,
                stamp=now(),
                models=self.models,
                boilerplate=boilerplate,
                n_process=spacy_processes(self.settings.enrich.spacy_processes, len(part)),
            )
            yield part, rows

    def embed(self, parts: Texts) -> EmbedResults:
        """Yield each partition of texts with its vectors, computed here."""
        for part in parts:
            yield part, encode_texts(self.models.embedder, part)
