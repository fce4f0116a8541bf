from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from nlp.label import CtfidfLabeller, LabelInput

_STOP = ENGLISH_STOP_WORDS

REFUND = [
    "My refund takes weeks in the app.",
    "The refund takes weeks, the app says pending.",
    "Refund takes weeks and nobody answers in the app.",
    "Still waiting, my refund takes weeks on the app.",
    "Why does the refund take so long in the app?",
    "Refund takes weeks after returning the parcel, says the app.",
    "The app shows my refund as processing for weeks.",
    "Refund takes weeks every single time with the app.",
    "A refund should not take a month, app support is slow.",
    "The app promised a refund within days but it took weeks.",
]
LOGOUT = [
    "The app logs me out every day.",
    "App logs me out after each update.",
    "It logs me out constantly, the app is useless.",
    "The app logs me out when I switch screens.",
    "Annoying that the app logs me out at checkout.",
    "The app keeps logging me out overnight.",
    "I get logged out of the app all the time.",
    "App logs me out and forgets my password.",
    "The app logs me out twice a day.",
    "Every morning the app logs me out again.",
]
FEES = [
    "Hidden fees on my bill again in the app.",
    "The app added hidden fees to the bill.",
    "Hidden fees keep appearing on the bill, app says nothing.",
    "My bill had hidden fees the app never showed.",
    "Hidden fees on the monthly bill, found in the app.",
    "Another hidden fee on my bill that the app hid.",
    "The app does not explain the hidden fees on the bill.",
    "Hidden fees doubled my bill, checked in the app.",
    "The bill shows hidden fees the app did not mention.",
    "Surprise hidden fees on the bill via the app.",
]
CHUNKS = {0: ("refund", "app"), 1: ("app",), 2: ("hidden fees", "bill", "app")}


def _unit(unit_id, text, chunks=(), stage=None, theme=None):
    words = re.findall(r"[a-z']+", text.lower())
    return LabelInput(
        unit_id=unit_id,
        text=text,
        lemmas=tuple(w for w in words if w not in _STOP),
        noun_chunks=tuple(chunks),
        stage=stage,
        theme=theme,
    )


def _vectors(labels, dim=16, noise=0.2, seed=0):
    """One direction per cluster; the first member sits on it, the others in +/- noise pairs.

    So the centroid is exactly the direction and the first member is closest to it.
    """
    rng = np.random.default_rng(seed)
    directions = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    vectors = np.empty((len(labels), dim), dtype=np.float32)
    for cluster in np.unique(labels):
        idx = np.flatnonzero(labels == cluster)
        pairs = rng.normal(scale=noise, size=((len(idx) - 1) // 2, dim))
        offsets = np.zeros((len(idx), dim))
        offsets[1 : 1 + 2 * len(pairs)] = np.concatenate([pairs, -pairs])
        vectors[idx] = directions[cluster % dim] + offsets
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def corpus():
    units, labels = [], []
    for cluster, texts in enumerate([REFUND, LOGOUT, FEES]):
        for i, text in enumerate(texts):
            units.append(_unit(f"c{cluster}-{i}", text, CHUNKS[cluster]))
            labels.append(cluster)
    return units, np.array(labels)


def test_labels_name_their_own_cluster_only(corpus):
    units, labels = corpus
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    assert sorted(result) == [0, 1, 2]
    own = {0: ("refund",), 1: ("log",), 2: ("fee", "hidden")}
    for cluster, words in own.items():
        label = result[cluster].label
        assert any(w in label for w in words), label
        assert 2 <= len(label.split()) <= 6
        for other, other_words in own.items():
            if other != cluster:
                assert not any(w in label for w in other_words), label


def test_keyphrases_are_ranked_distinct_and_skip_shared_terms(corpus):
    units, labels = corpus
    result = CtfidfLabeller(top_keyphrases=6).label(units, _vectors(labels), labels)
    for cluster in result.values():
        phrases = cluster.keyphrases
        assert 1 <= len(phrases) <= 6
        assert len(set(phrases)) == len(phrases)
        assert phrases[0] != "app"  # "app" is in every sentence of every cluster
        words = [set(p.split()) for p in phrases]
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                assert not (a <= b or b <= a), phrases
    # "refund" is in every refund sentence and no other cluster; "pending" is in just one.
    refund = result[0].keyphrases
    assert refund[0] == "refund"
    assert "app" not in refund[:3]


def test_quotes_are_close_varied_members(corpus):
    units, labels = corpus
    vectors = _vectors(labels)
    result = CtfidfLabeller().label(units, vectors, labels)
    texts = {u.unit_id: u.text for u in units}
    for cluster, cl in result.items():
        members = [u.unit_id for u, lab in zip(units, labels, strict=True) if lab == cluster]
        assert 3 <= len(cl.quote_unit_ids) <= 5
        assert set(cl.quote_unit_ids) <= set(members)
        assert len({texts[q] for q in cl.quote_unit_ids}) == len(cl.quote_unit_ids)
        # The member sitting exactly on the cluster direction (= the centroid) comes first.
        assert cl.quote_unit_ids[0] == members[0]


def test_exact_duplicates_are_never_quoted_twice():
    texts = ["Refund takes weeks."] * 8 + [
        "Refund took three weeks to show up.",
        "Still no refund after a month.",
        "The refund is stuck in processing.",
    ]
    units = [_unit(f"u{i}", t) for i, t in enumerate(texts)]
    labels = np.zeros(len(units), dtype=int)
    vectors = _vectors(labels, noise=0.3, seed=3)
    vectors[:8] = vectors[0]  # identical texts embed identically
    quotes = CtfidfLabeller().label(units, vectors, labels)[0].quote_unit_ids
    quoted_texts = [texts[int(q[1:])] for q in quotes]
    assert 3 <= len(quotes) <= 4
    assert len(set(quoted_texts)) == len(quoted_texts)


def test_near_duplicates_fill_up_to_min_quotes():
    texts = [f"Refund delayed by the bank, case {word}." for word in "abcdef"]
    units = [_unit(f"u{i}", t) for i, t in enumerate(texts)]
    labels = np.zeros(len(units), dtype=int)
    vectors = _vectors(labels, noise=0.01)  # every pair far above the cosine threshold
    labeller = CtfidfLabeller(min_quotes=3)
    assert len(labeller.label(units, vectors, labels)[0].quote_unit_ids) == 3
    strict = CtfidfLabeller(min_quotes=1, near_duplicate_jaccard=1.1)
    assert len(strict.label(units, vectors, labels)[0].quote_unit_ids) == 1


def test_stage_and_theme_shares():
    stages = ["change_or_return"] * 4 + ["delivery"] * 3 + ["unassigned"] * 2 + [None]
    themes = ["unassigned"] * 7 + [None] * 3
    units = [
        _unit(f"a{i}", f"Return label broke {i}.", stage=s, theme=t)
        for i, (s, t) in enumerate(zip(stages, themes, strict=True))
    ]
    units += [_unit(f"b{i}", f"Courier lost parcel {i}.") for i in range(4)]
    labels = np.array([0] * 10 + [1] * 4)
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    assert (result[0].stage, result[0].stage_share) == ("change_or_return", pytest.approx(0.4))
    assert (result[0].theme, result[0].theme_share) == ("unassigned", pytest.approx(0.7))
    assert (result[1].stage, result[1].theme) == (None, None)


def test_noise_is_ignored(corpus):
    units, labels = corpus
    vectors = _vectors(labels)
    noise = [_unit(f"n{i}", "Parking garage flooded overnight.") for i in range(6)]
    all_units = units + noise
    all_labels = np.concatenate([labels, np.full(6, -1)])
    # Noise sitting exactly on cluster 0's centroid would be its first quote if it counted.
    all_vectors = np.vstack([vectors, np.repeat(vectors[:1], 6, axis=0)])
    result = CtfidfLabeller().label(all_units, all_vectors, all_labels)
    assert sorted(result) == [0, 1, 2]
    for cl in result.values():
        assert not any(q.startswith("n") for q in cl.quote_unit_ids)
        assert not any("parking" in p for p in cl.keyphrases)
    assert result == CtfidfLabeller().label(units, vectors, labels)


def test_deterministic_and_empty(corpus):
    units, labels = corpus
    vectors = _vectors(labels)
    assert CtfidfLabeller().label(units, vectors, labels) == CtfidfLabeller().label(
        units, vectors, labels
    )
    assert CtfidfLabeller().label(units[:2], vectors[:2], np.array([-1, -1])) == {}


def _spacy_like(texts, lemmas, chunks):
    """Units whose lemmas and noun chunks (functions of the unit's index) are spaCy's own."""
    return [
        LabelInput(f"u{i}", text, lemmas(i), chunks(i), stage=None, theme=None)
        for i, text in enumerate(texts)
    ]


def test_symbols_and_numbers_never_become_labels_or_keyphrases():
    # spaCy lemmatises "€30" to "€" and "30"; in a cluster of surprise charges the symbol was
    # the most characteristic lemma, and it became the label.
    texts = [f"They charged me € {n} extra for delivery, a hidden charge." for n in range(10, 20)]
    units = _spacy_like(
        texts,
        lemmas=lambda i: ("charge", "€", str(10 + i), "extra", "delivery", "hidden", "charge"),
        chunks=lambda i: ("€ " + str(10 + i), "a hidden charge"),
    )
    other = _unit("o0", "The app logs me out every day.", ("app",))
    labels = np.array([0] * len(units) + [-1])
    result = CtfidfLabeller().label([*units, other], _vectors(labels % 16), labels)
    label = result[0]
    assert re.search(r"[a-z]{2}", label.label), label.label
    assert all(re.search(r"[a-z]{2}", k) for k in label.keyphrases), label.keyphrases
    assert "€" not in label.keyphrases


def test_hyphenated_words_keep_their_hyphen():
    texts = [f"As a long-time customer I waited {n} days for my parcel." for n in range(3, 13)]
    units = _spacy_like(
        texts,
        lemmas=lambda i: ("long", "-", "time", "customer", "wait", "day", "parcel"),
        chunks=lambda i: ("a long - time customer", "my parcel"),
    )
    labels = np.zeros(len(units), dtype=int)
    result = CtfidfLabeller().label(units, _vectors(labels), labels)[0]
    phrases = (result.label, *result.keyphrases)
    assert not any(" - " in p for p in phrases), phrases
