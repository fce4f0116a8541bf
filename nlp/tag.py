"""Tagging units and comments with a journey stage and a hassle theme.

The default tagger scores each label by embedding similarity to the label's example phrases
(mean of the top-k cosine similarities), adds a boost for each non-negated spaCy pattern hit,
and turns the scores into a confidence with a softmax whose temperature is calibrated on the
taxonomy's own examples (leave-one-out). When labelled examples are supplied, a logistic
regression on the embeddings replaces the similarity scores for that dimension.

Whether a unit is a pain point is decided by :class:`PainClassifier`: a logistic regression on
the embeddings of the taxonomy's complaints (``pain_points`` and every theme example) against
what is not a complaint (``no_hassle``: praise, thanks, questions, chit-chat). Comparing theme
similarity with no-hassle similarity, the rule before it, passed most thanks and chit-chat on
real text (docs/benchmarks.md, issue 12). A sentence that says all is well is never a pain
point (:mod:`nlp.all_is_well`): one denying a problem ("I had no problem with delivery"),
reporting it fixed ("support sorted my issue in one call", the commonest praise that passed on
real support tweets) or praising a process as easy ("returning it was easy"). Its complaint
words pull its vector towards the complaints, and counter-examples that teach the classifier
otherwise cost the demo's planted hassles coverage and purity (measured: NMI 0.886 to 0.844).

A label whose confidence is under the threshold becomes ``unassigned``. Everything here is
pure: vectors and the taxonomy are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from config.taxonomy import UNASSIGNED, Taxonomy
from nlp.all_is_well import says_all_is_well
from nlp.embed import Embedder
from nlp.units import PatternHit

DIMENSIONS = ("stage", "theme")
TOP_K = 3
TEMPERATURES = np.geomspace(0.005, 0.5, 40)


@dataclass(frozen=True)
class Tag:
    """The best stage and theme for one unit or comment, with calibrated confidences."""

    stage: str
    stage_confidence: float
    theme: str
    theme_confidence: float
    is_pain_point: bool
    pain_score: float
    method: str


TAGGER_CODE_VERSION = "tagger-v13"
"""Bumped when the tagger's code changes what it decides; recorded with every tag (v2: pain
scores weighed by the writer's rating; v3: an unrated comment's by its channel's prior; v4:
a denied letdown, "never been disappointed", is no pain point; "unless" is a contrast; v5:
nor is praise in a negated idiom, "can't be beat", "the photos don't do it justice"; v6: nor a
denied letdown misspelt, "never been disapointed"; v7: the idioms narrowed; "even if" is a
contrast; v8: "no fuss", "worth every penny"; v9: those narrowed: not "made no fuss", "used
to be worth every penny"; v10: a turned "worth every penny" no longer hides another denied
letdown in its sentence; v11: a process praised as easy, "returning it was easy", and "it
actually worked"; v12: a sentence that only gives contact details, "call me on 555-1234"; v13:
a fix the customer had made, "got it sorted", "were able to get the issue resolved")."""


def _topk_mean(similarities: np.ndarray, k: int) -> np.ndarray:
    k = min(k, similarities.shape[1])
    if k == similarities.shape[1]:
        return similarities.mean(axis=1)
    part = np.partition(similarities, -k, axis=1)[:, -k:]
    return part.mean(axis=1)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class _Prototypes:
    """Example vectors of one dimension's labels."""

    keys: list[str]
    vectors: list[np.ndarray]

    def scores(self, vectors: np.ndarray, *, exclude: tuple[int, int] | None = None) -> np.ndarray:
        out = np.empty((len(vectors), len(self.keys)), dtype=np.float32)
        for j, examples in enumerate(self.vectors):
            sims = vectors @ examples.T
            if exclude is not None and exclude[0] == j:
                sims = np.delete(sims, exclude[1], axis=1)
            out[:, j] = _topk_mean(sims, TOP_K)
        return out


def calibrate_temperature(prototypes: _Prototypes) -> float:
    """Pick the softmax temperature that best predicts each example's own label (leave-one-out)."""
    rows, truth = [], []
    for j, examples in enumerate(prototypes.vectors):
        for i in range(len(examples)):
            if len(examples) < 2:
                continue
            rows.append(prototypes.scores(examples[i : i + 1], exclude=(j, i))[0])
            truth.append(j)
    if not rows:
        return 0.05
    scores = np.asarray(rows)
    index = np.asarray(truth)
    best, best_loss = 0.05, np.inf
    for temperature in TEMPERATURES:
        probs = _softmax(scores, float(temperature))
        loss = -np.log(probs[np.arange(len(index)), index] + 1e-12).mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


class PainClassifier:
    """Tells complaints from praise, thanks, questions and chit-chat, on sentence vectors.

    A logistic regression fitted on the taxonomy's examples: complaints are its ``pain_points``
    and all its theme examples; the rest is ``no_hassle``. Fitting a few hundred vectors takes
    milliseconds, so it is fitted wherever a tagger is built.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        *,
        threshold: float = 0.35,
        prior_delighted: float = 0.5,
        prior_furious: float = 0.5,
    ) -> None:
        """Embed the examples and fit.

        Args:
            taxonomy: Its ``pain_points``, theme examples and ``no_hassle`` are the examples.
            embedder: Turns texts into vectors (the same one used for the units).
            threshold: The probability from which a vector is a pain point.
            prior_delighted: How likely a sentence is a complaint when its writer gave the
                top rating (see :func:`weigh_by_rating`); 0.5 gives the rating no weight.
            prior_furious: The same at the lowest rating.
        """
        from sklearn.linear_model import LogisticRegression

        self.threshold = threshold
        self.prior_delighted = prior_delighted
        self.prior_furious = prior_furious
        complaints = list(taxonomy.pain_points) + [
            example for label in taxonomy.themes for example in label.examples
        ]
        features = embedder.encode(complaints + list(taxonomy.no_hassle))
        targets = [1] * len(complaints) + [0] * len(taxonomy.no_hassle)
        self.model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        self.model.fit(features, targets)

    def scores(
        self,
        vectors: np.ndarray,
        dissatisfaction: Sequence[float | None] | None = None,
        unrated_prior: Sequence[float] | None = None,
    ) -> np.ndarray:
        """The probability that each vector is a complaint.

        ``dissatisfaction`` (per row: 0 delighted .. 1 furious, from the writer's own rating,
        or None) and ``unrated_prior`` (per row: the prior of a row without a rating, from its
        channel) weigh each probability by :func:`weigh_by_rating`.
        """
        scores = self.model.predict_proba(vectors)[:, 1]
        if dissatisfaction is None and unrated_prior is None:
            return scores
        return weigh_by_rating(
            scores,
            [None] * len(scores) if dissatisfaction is None else dissatisfaction,
            delighted=self.prior_delighted,
            furious=self.prior_furious,
            unrated=0.5 if unrated_prior is None else unrated_prior,
        )


def weigh_by_rating(
    probabilities: np.ndarray,
    dissatisfaction: Sequence[float | None],
    *,
    delighted: float,
    furious: float,
    unrated: float | Sequence[float] = 0.5,
) -> np.ndarray:
    """Each complaint probability weighed by the writer's own rating (Bayes' rule).

    The classifier learns from balanced examples, so its probability is the evidence of the
    sentence alone. A rating says how likely any sentence of its writer is a complaint: the
    prior is ``delighted`` at dissatisfaction 0 (5 stars), 0.5 at 0.5 (3 stars) and ``furious``
    at 1 (1 star), linear in between. A row without a rating (None) takes ``unrated`` (one
    value, or one per row: its channel's prior, ``tagging.channel_pain_prior``; 0.5 changes
    nothing).
    The result is the posterior: ``odds = odds(probability) * odds(prior)``. With the defaults
    (0.1, 0.8) a 5-star reviewer's "the fabric is a bit thin" (0.6) drops to 0.14, their "sold
    out everywhere" (0.92) stays at 0.56, and a 1-star reviewer's flat "we checked out on
    Sunday" (0.2) rises to 0.5.
    """
    rated = np.array([v is not None for v in dissatisfaction], dtype=bool)
    d = np.array([0.5 if v is None else min(max(v, 0.0), 1.0) for v in dissatisfaction])
    by_rating = np.where(
        d < 0.5, 0.5 - (0.5 - d) * 2 * (0.5 - delighted), 0.5 + (d - 0.5) * 2 * (furious - 0.5)
    )
    prior = np.where(rated, by_rating, np.broadcast_to(np.asarray(unrated, float), d.shape))
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-9, 1 - 1e-9)
    odds = p / (1 - p) * prior / (1 - prior)
    return odds / (1 + odds)


class PrototypeTagger:
    """Default tagger: example similarity plus pattern hits, optionally a learned classifier."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        *,
        min_confidence: float = 0.35,
        pattern_boost: float = 0.08,
        labelled: Sequence[tuple[str, str, str]] = (),
        pain_threshold: float = 0.35,
        pain_prior: tuple[float, float] = (0.5, 0.5),
        pain_embedder: Embedder | None = None,
    ) -> None:
        """Embed the taxonomy's examples (and any labelled examples) and calibrate.

        Args:
            taxonomy: Stages and themes with example phrases and patterns.
            embedder: Turns texts into vectors (the same one used for the units).
            min_confidence: Below this, a tag is ``unassigned``.
            pattern_boost: Added to a label's similarity score per non-negated pattern hit.
            labelled: Extra (dimension, label, text) examples; when a dimension has any, a
                logistic regression trained on examples plus labelled texts scores it.
            pain_threshold: A unit is a pain point when :class:`PainClassifier` gives it at
                least this probability.
            pain_prior: How likely a sentence is a complaint at the top and at the lowest
                rating (:func:`weigh_by_rating`); ``(0.5, 0.5)`` gives ratings no weight.
            pain_embedder: The model :class:`PainClassifier` reads (``models.pain_embedding``);
                None: ``embedder``. :meth:`tag` then takes that model's vectors as
                ``pain_vectors``.
        """
        self.taxonomy = taxonomy
        self.taxonomy_version = taxonomy.version_id
        self.min_confidence = min_confidence
        self.pattern_boost = pattern_boost
        self.prototypes: dict[str, _Prototypes] = {}
        self.temperatures: dict[str, float] = {}
        self.classifiers: dict[str, Any] = {}
        for dimension in DIMENSIONS:
            labels = taxonomy.labels(dimension)
            vectors = [embedder.encode(list(label.examples)) for label in labels]
            self.prototypes[dimension] = _Prototypes([label.key for label in labels], vectors)
            self.temperatures[dimension] = calibrate_temperature(self.prototypes[dimension])
        self.pain = PainClassifier(
            taxonomy,
            pain_embedder or embedder,
            threshold=pain_threshold,
            prior_delighted=pain_prior[0],
            prior_furious=pain_prior[1],
        )
        methods = []
        for dimension in DIMENSIONS:
            extra = [(label, text) for dim, label, text in labelled if dim == dimension]
            if extra:
                self.classifiers[dimension] = self._train(dimension, extra, embedder)
                methods.append(f"{dimension}:logreg")
            else:
                methods.append(f"{dimension}:similarity+patterns")
        self.method = ",".join(methods)

    def _train(self, dimension: str, extra: list[tuple[str, str]], embedder: Embedder) -> Any:
        from sklearn.linear_model import LogisticRegression

        protos = self.prototypes[dimension]
        features = [np.vstack(protos.vectors), embedder.encode([text for _, text in extra])]
        targets = [key for key, vecs in zip(protos.keys, protos.vectors, strict=True) for _ in vecs]
        targets += [label for label, _ in extra]
        model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        model.fit(np.vstack(features), targets)
        return model

    def _dimension_probs(
        self, dimension: str, vectors: np.ndarray, hits: Sequence[Sequence[PatternHit]] | None
    ) -> tuple[list[str], np.ndarray]:
        protos = self.prototypes[dimension]
        if dimension in self.classifiers:
            model = self.classifiers[dimension]
            probs = model.predict_proba(vectors)
            keys = list(model.classes_)
            if hits:
                probs = self._apply_hits_to_probs(dimension, keys, probs, hits)
            return keys, probs
        scores = protos.scores(vectors)
        if hits:
            index = {key: j for j, key in enumerate(protos.keys)}
            for row, row_hits in enumerate(hits):
                for hit in row_hits:
                    if hit.dimension == dimension and not hit.negated and hit.label in index:
                        scores[row, index[hit.label]] += self.pattern_boost
        return protos.keys, _softmax(scores, self.temperatures[dimension])

    def _apply_hits_to_probs(
        self,
        dimension: str,
        keys: list[str],
        probs: np.ndarray,
        hits: Sequence[Sequence[PatternHit]],
    ) -> np.ndarray:
        index = {key: j for j, key in enumerate(keys)}
        probs = probs.copy()
        for row, row_hits in enumerate(hits):
            for hit in row_hits:
                if hit.dimension == dimension and not hit.negated and hit.label in index:
                    probs[row, index[hit.label]] *= 2.0
            probs[row] /= probs[row].sum()
        return probs

    def tag(
        self,
        vectors: np.ndarray,
        hits: Sequence[Sequence[PatternHit]] | None = None,
        texts: Sequence[str | None] | None = None,
        dissatisfaction: Sequence[float | None] | None = None,
        unrated_prior: Sequence[float] | None = None,
        pain_vectors: np.ndarray | None = None,
    ) -> list[Tag]:
        """Tag each row of ``vectors`` (units or comments) with a stage and a theme.

        ``texts`` (one sentence or None per row) lets a sentence that says all is well
        (:func:`nlp.all_is_well.says_all_is_well`: a problem denied, a fix reported, a process
        praised as easy) out of the pain points, whatever its score. ``dissatisfaction`` (per row, from the writer's rating: 0 delighted .. 1
        furious, or None) weighs the pain score (:func:`weigh_by_rating`), and so does
        ``unrated_prior`` (per row, the channel's prior, for a row without a rating); the
        weighed score is the one recorded. ``pain_vectors`` (the same rows, from the tagger's
        ``pain_embedder``) are what the pain score reads when given; else ``vectors``.
        """
        if len(vectors) == 0:
            return []
        stage_keys, stage_probs = self._dimension_probs("stage", vectors, hits)
        theme_keys, theme_probs = self._dimension_probs("theme", vectors, hits)
        pain = self.pain.scores(
            vectors if pain_vectors is None else pain_vectors, dissatisfaction, unrated_prior
        )
        tags = []
        for row in range(len(vectors)):
            s, t = int(stage_probs[row].argmax()), int(theme_probs[row].argmax())
            stage_conf, theme_conf = float(stage_probs[row, s]), float(theme_probs[row, t])
            tags.append(
                Tag(
                    stage=stage_keys[s] if stage_conf >= self.min_confidence else UNASSIGNED,
                    stage_confidence=round(stage_conf, 4),
                    theme=theme_keys[t] if theme_conf >= self.min_confidence else UNASSIGNED,
                    theme_confidence=round(theme_conf, 4),
                    is_pain_point=bool(pain[row] >= self.pain.threshold)
                    and not (texts is not None and texts[row] and says_all_is_well(texts[row])),
                    pain_score=round(float(pain[row]), 4),
                    method=self.method,
                )
            )
        return tags
