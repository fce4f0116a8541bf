"""Where enrich's two heavy steps run: one contract, two places.

The enrich tasks (:mod:`flows.enrich`) cut their work into partitions and hand them to an
:class:`EnrichExecutor`, then write each partition's rows as it comes back. The
:class:`LocalExecutor` computes them in this process, one after another;
``flows.scale.DaskExecutor`` computes them on a Dask cluster. Both call the same pure
functions (:func:`nlp.enrich.compute_units`, :func:`flows.enrich_models.encode_texts`) on the
same partitions, so both write the same rows.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
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
"""Fewer comments than this are split in one process: starting more costs more than it saves."""
MAX_SPLIT_PROCESSES = 4
PIECES_PER_PROCESS = 4
"""Each partition is cut into this many pieces per process, so that no process waits long for
the slowest: a piece of long texts takes longer than one of tweets."""


def split_processes(setting: int, comments: int) -> int:
    """How many processes the split step runs ``comments`` in, from this process.

    ``setting`` is ``enrich.split_processes``: a number is used as it is; 0 means one per CPU
    core (at most :data:`MAX_SPLIT_PROCESSES`) for at least :data:`PARALLEL_SPLIT_MIN`
    comments. A daemonic process (a Dask worker) may not start processes, so it always splits
    in one.
    """
    if multiprocessing.current_process().daemon:
        return 1
    if setting:
        return setting
    if comments < PARALLEL_SPLIT_MIN:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_SPLIT_PROCESSES))


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
    """Computes every partition from this process, in order, with this run's models.

    The split step is single-threaded Python and spaCy, so on a machine with more than one core
    it runs in a pool of forked processes (:func:`split_processes`) that share the models this
    process loaded; each returns finished rows, which are small beside spaCy's parsed docs.
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
        """Yield each partition of comments with its rows, in order, as each is ready."""
        processes = split_processes(
            self.settings.enrich.split_processes, sum(len(part) for part in parts)
        )
        if processes == 1:
            for part in parts:
                yield part, _split_piece((part, now()), self.models, taxonomy, boilerplate)
            return
        self.models.load_for_split(taxonomy)  # before the fork: the processes share them
        pieces = [partitions(p, -(-len(p) // (processes * PIECES_PER_PROCESS))) for p in parts]
        with objects_kept_from_forks():
            pool = multiprocessing.get_context("fork").Pool(
                processes, _hold_split_inputs, (self.models, taxonomy, boilerplate)
            )
        try:
            done = pool.imap(_split_held_piece, _stamped(pieces))
            for part, part_pieces in zip(parts, pieces, strict=True):
                rows = [next(done) for _ in part_pieces]
                enrichments = [e for piece_enrichments, _ in rows for e in piece_enrichments]
                yield part, (enrichments, [u for _, units in rows for u in units])
            pool.close()  # every piece is done: the processes exit on their own
        except BaseException:  # an error, or the caller stopped reading (GeneratorExit)
            pool.terminate()
            raise
        finally:
            pool.join()

    def embed(self, parts: Texts) -> EmbedResults:
        """Yield each partition of texts with its vectors, computed here."""
        for part in parts:
            yield part, encode_texts(self.models.embedder, part)


@contextmanager
def objects_kept_from_forks() -> Iterator[None]:
    """Fork inside this block so that no forked process frees an object of this one.

    Garbage is collected here first, then every object left is frozen (:func:`gc.freeze`)
    while the processes are forked, so their garbage collector never visits what they
    inherited. Freeing an inherited native object in a fork can hang it for ever: an
    onnxruntime session that auto's probe timed and dropped waits, as it is destroyed, on
    a condition variable of a thread pool that exists only in this process.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _stamped(
    pieces: list[list[Sequence[PendingComment]]],
) -> Iterator[tuple[Sequence[PendingComment], datetime]]:
    """Each piece with its partition's ``enriched_at``, taken when the partition starts."""
    for part_pieces in pieces:
        stamp = now()
        for piece in part_pieces:
            yield piece, stamp


def _split_piece(
    job: tuple[Sequence[PendingComment], datetime],
    models: Models,
    taxonomy: Taxonomy,
    boilerplate: Boilerplate,
) -> Split:
    comments, stamp = job
    return compute_units(
        comments, models.settings, taxonomy, stamp=stamp, models=models, boilerplate=boilerplate
    )


# The inputs of a forked split process, set once when it starts (fork copies them, unpickled).
_held: tuple[Models, Taxonomy, Boilerplate] | None = None


def _hold_split_inputs(models: Models, taxonomy: Taxonomy, boilerplate: Boilerplate) -> None:
    global _held
    _held = (models, taxonomy, boilerplate)
    # A fork keeps the parent's Python signal handlers (Prefect's, in a flow run); the pool
    # stops its processes with SIGTERM, which must end them, not run such a handler.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _split_held_piece(job: tuple[Sequence[PendingComment], datetime]) -> Split:
    assert _held is not None, "a split process starts with _hold_split_inputs"
    return _split_piece(job, *_held)
