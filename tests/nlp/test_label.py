from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from nlp.label import CtfidfLabeller, LabelInput
from nlp.label_support import NO_PROBLEM_LABEL, most_held_label
from nlp.specificity import Corpus
from nlp.terms import read_unit

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


def test_members_the_pain_filter_is_sure_of_are_quoted_first(corpus):
    # The member on the centroid only just passed the pain filter ("I ordered the plug on
    # Friday."): sure complaints fill the quotes before it.
    units, labels = corpus
    vectors = _vectors(labels)
    unscored = CtfidfLabeller().label(units, vectors, labels)[0].quote_unit_ids
    assert unscored[0] == units[0].unit_id
    scored = [replace(u, pain_score=0.4 if i == 0 else 0.9) for i, u in enumerate(units)]
    quotes = CtfidfLabeller().label(scored, vectors, labels)[0].quote_unit_ids
    assert units[0].unit_id not in quotes
    assert len(quotes) == len(unscored)
    # With one sure member only, it heads the quotes and the others follow, closest first.
    one_sure = [replace(u, pain_score=0.9 if i == 5 else 0.4) for i, u in enumerate(units)]
    quotes = CtfidfLabeller().label(one_sure, vectors, labels)[0].quote_unit_ids
    assert quotes[:2] == (units[5].unit_id, units[0].unit_id)
    assert len(quotes) == len(unscored)


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


def test_a_comment_is_quoted_once_however_many_of_its_sentences_are_members():
    texts = [
        "Refund took three weeks to show up.",
        "Still no refund after a month.",
        "The refund is stuck in processing.",
        "Nobody tells me where my refund is.",
        "My refund vanished after the return.",
        "The bank says no refund was sent.",
    ]
    # Sentences 0-2 are one ticket's (unit ids "<comment id>:<index>"); 3-5 a comment each.
    ids = ["t1:0", "t1:1", "t1:2", "c3:0", "c4:0", "c5:0"]
    units = [_unit(i, t) for i, t in zip(ids, texts, strict=True)]
    labels = np.zeros(len(units), dtype=int)
    vectors = _vectors(labels, noise=0.3, seed=3)
    labeller = CtfidfLabeller(quotes=4, min_quotes=3)
    quoted = [q.split(":")[0] for q in labeller.label(units, vectors, labels)[0].quote_unit_ids]
    assert len(quoted) >= 3 and len(set(quoted)) == len(quoted)
    # Each a comment of its own, the same sentences: the ticket's are quoted side by side.
    apart = [replace(u, unit_id=f"x{n}:0") for n, u in enumerate(units)]
    loose = labeller.label(apart, vectors, labels)[0].quote_unit_ids
    assert sum(q in ("x0:0", "x1:0", "x2:0") for q in loose) >= 2


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


def test_a_labeller_labels_a_second_grouping_as_a_fresh_one_would(corpus):
    # The flow labels the children, then the parents, with one labeller that reads each unit
    # once; the second labelling must not depend on the first.
    units, labels = corpus
    vectors = _vectors(labels)
    parents = np.where(labels == 2, 1, labels)  # clusters 1 and 2 under one parent
    labeller = CtfidfLabeller()
    assert labeller.label(units, vectors, labels) == CtfidfLabeller().label(units, vectors, labels)
    assert labeller.label(units, vectors, parents) == CtfidfLabeller().label(
        units, vectors, parents
    )


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


def test_a_label_never_says_a_word_twice():
    # Helpdesk tickets filled in from a form repeat the field's word in its value: on real
    # tickets the labels read "cable cable", "password password" and "job job fail job".
    texts = [
        f"cable  cable broken at desk {n} . monitor no signal , cable cable replace please"
        for n in range(10)
    ] + [f"password password reset for user {n} , password expired" for n in range(10)]
    units = [_unit(f"t{i}", text) for i, text in enumerate(texts)]
    labels = np.array([0] * 10 + [1] * 10)
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    for label in result.values():
        for phrase in (label.label, *label.keyphrases):
            words = phrase.replace(" + ", " ").split()
            assert len(set(words)) == len(words), phrase
    assert "cable" in result[0].label and "password" in result[1].label


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


# Tweets to a support handle, as customers write them: handles, greetings and thanks left in.
SHUFFLE = [
    "@BrandifyCares hi, shuffle keeps repeating the same two artists",
    "Shuffle repeats the same songs every time I open my playlist @BrandifyCares",
    "@BrandifyCares why does shuffle repeat the same artist over and over?",
    "Hey @BrandifyCares shuffle repeats the same 10 songs on a 900 song playlist",
    "@BrandifyCares shuffle keeps repeating tracks I heard an hour ago, thanks",
    "shuffle repeats the same album all day, please fix @BrandifyCares",
    "@BrandifyCares Shuffle is repeating the same three songs, so annoying",
    "@BrandifyCares on Brandify my shuffle repeats songs constantly https://t.co/x1Y2z3",
]
OFFLINE = [
    "@BrandifyCares my offline downloads disappear every time I update the app",
    "Hi @BrandifyCares, offline downloads disappeared from my phone again",
    "@BrandifyCares downloaded playlists disappear when I go offline on the train",
    "Offline downloads keep disappearing on my iPhone @BrandifyCares 😡",
    "@BrandifyCares all my offline downloads disappeared after the update, thanks a lot",
    "@BrandifyCares why do my offline downloads disappear overnight?",
    "Brandify offline downloads disappear after a week @BrandifyCares",
    "@BrandifyCares offline downloads vanished, had to download 400 songs again",
]
REFUND_TWEETS = [
    "@BrandifyCares refund still not received after three weeks",
    "@BrandifyCares hello, my refund has not been received yet",
    "Refund not received for the double charge @BrandifyCares",
    "@BrandifyCares it's been a month and the refund is still not received",
    "@BrandifyCares refund not received, your Brandify chat said 5 days",
    "Thanks @BrandifyCares but the refund is still not received",
    "@BrandifyCares refund never received after cancelling premium",
    "@BrandifyCares still no refund received on my card",
]
CHAT = [
    "@BrandifyCares yes i did",
    "@BrandifyCares Thanks! I sent you a DM",
    "@BrandifyCares ok thank you",
    "@BrandifyCares yes i did, sent a dm",
    "@BrandifyCares thank you so much!!",
    "@BrandifyCares Sent you a DM 👍",
    "@BrandifyCares hi, yes I did",
    "@BrandifyCares ok thanks, sent you a dm",
]
VAGUE = [
    "Frustrating.",
    "This is terrible",
    "Meh.",
    "So frustrating!!",
    "Ugh, this is terrible @BrandifyCares",
    "Honestly terrible.",
    "Meh, frustrating as always",
    "Terrible, just terrible.",
]
TWEET_CHUNKS = {
    0: ("@brandifycares", "shuffle", "same two artists", "same songs", "playlist"),
    1: ("@brandifycares", "offline downloads", "phone", "update"),
    2: ("@brandifycares", "refund", "three weeks", "double charge", "card"),
    3: ("@brandifycares", "i", "dm", "you"),
    4: ("this",),
}
_GREETING_OR_THANKS = re.compile(r"\b(hi|hello|hey|thanks?|thank you|please|cheers)\b")


def _tweet(unit_id, text, chunks, theme=None):
    """A unit as enrich makes it from a tweet: spaCy keeps "@handle" as one lemma.

    Its noun chunks are those of ``chunks`` that occur in the text.
    """
    words = re.findall(r"[@\w']+", text.lower())
    lemmas = tuple(w for w in words if w not in _STOP and not w.isdigit())
    chunks = tuple(c for c in chunks if c in text.lower())
    return LabelInput(unit_id, text, lemmas, chunks, stage=None, theme=theme)


@pytest.fixture
def tweets():
    units, labels = [], []
    for cluster, texts in enumerate([SHUFFLE, OFFLINE, REFUND_TWEETS, CHAT, VAGUE]):
        for i, text in enumerate(texts):
            units.append(_tweet(f"t{cluster}-{i}", text, TWEET_CHUNKS[cluster], "unassigned"))
            labels.append(cluster)
    return units, np.array(labels)


def test_tweet_labels_are_never_a_handle_url_greeting_or_lone_word(tweets):
    units, labels = tweets
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    for cl in result.values():
        for text in (cl.label, *cl.keyphrases):
            assert "@" not in text and "brandifycare" not in text, text
            assert "http" not in text and "t.co" not in text, text
            assert not _GREETING_OR_THANKS.search(text), text
        assert len(cl.label.split()) >= 2, cl.label
        # The brand is in most sentences of every cluster: never a label's only content.
        content = set(re.findall(r"[a-z']+", cl.label)) - _STOP - {"app"}
        assert content - {"brandify"}, cl.label


def test_tweet_labels_name_the_problem(tweets):
    units, labels = tweets
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    assert "shuffle" in result[0].label and "repeat" in result[0].label, result[0].label
    assert "download" in result[1].label, result[1].label
    assert "refund" in result[2].label, result[2].label
    assert re.search(r"\b(not|never|no)\b", result[2].label), result[2].label


def test_specificity_is_high_for_a_concrete_problem_and_low_for_vague_frustration(tweets):
    units, labels = tweets
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    spec = {k: cl.specificity for k, cl in result.items()}
    assert all(s is not None and 0.0 <= s <= 1.0 for s in spec.values()), spec
    # No taxonomy theme fits shuffle (every unit is "unassigned"): it is specific all the same.
    for concrete in (0, 1, 2):
        assert spec[concrete] >= 0.6, spec
    for vague in (3, 4):  # "yes i did" / "sent you a dm", and "Frustrating." / "Meh."
        assert spec[vague] <= 0.3, spec
    assert min(spec[k] for k in (0, 1, 2)) > max(spec[k] for k in (3, 4))


def test_specificity_falls_when_members_scatter(tweets):
    units, labels = tweets
    tight = CtfidfLabeller().label(units, _vectors(labels, noise=0.1), labels)
    loose = CtfidfLabeller().label(units, _vectors(labels, noise=1.5), labels)
    assert loose[0].specificity < tight[0].specificity


def test_a_cluster_of_greetings_and_thanks_says_no_problem_is_named():
    texts = ["Thanks!", "thank you", "Hi there", "Hello!", "Cheers", "thx", "ok thanks", "ty"]
    units = [_tweet(f"g{i}", t, ()) for i, t in enumerate(texts)]
    units += [_tweet(f"s{i}", t, TWEET_CHUNKS[0]) for i, t in enumerate(SHUFFLE)]
    labels = np.array([0] * len(texts) + [1] * len(SHUFFLE))
    result = CtfidfLabeller().label(units, _vectors(labels), labels)
    assert result[0].label == NO_PROBLEM_LABEL
    assert result[0].specificity == 0.0


def test_a_cluster_naming_no_problem_is_never_specific():
    # "A shame!" heads a noun chunk: a fifth of this cluster names a "concrete object", and
    # every member holds a top keyphrase; measured alone it would pass as specific (0.58).
    sad = ["A shame!", "Sad!", "So sad.", "Sad, really.", "Very sad!"] * 2
    units = [_tweet(f"e{i}", t, ("shame",) if t == "A shame!" else ()) for i, t in enumerate(sad)]
    units += [_tweet(f"s{i}", t, TWEET_CHUNKS[0]) for i, t in enumerate(SHUFFLE)]
    labels = np.array([0] * len(sad) + [1] * len(SHUFFLE))

    result = CtfidfLabeller().label(units, _vectors(labels), labels)

    assert result[0].label == NO_PROBLEM_LABEL
    assert result[0].specificity == pytest.approx(0.2)
    assert result[1].specificity >= 0.6


def test_a_one_word_sentence_parsed_as_a_noun_chunk_names_no_object():
    # spaCy parses "Avoid." alone as a noun chunk; a third of this vague cluster says it.
    vague = ["Avoid."] * 4 + ["Really frustrating.", "Frustrating.", "So annoying.", "Annoying!"]
    units = [_tweet(f"v{i}", t, ("avoid",)) for i, t in enumerate(vague)]
    units += [_tweet(f"s{i}", t, TWEET_CHUNKS[0]) for i, t in enumerate(SHUFFLE)]
    labels = np.array([0] * len(vague) + [1] * len(SHUFFLE))

    result = CtfidfLabeller().label(units, _vectors(labels), labels)

    assert result[0].label == NO_PROBLEM_LABEL
    assert result[0].specificity == 0.0
    assert result[1].specificity >= 0.6


@pytest.mark.parametrize(
    ("text", "heads"),
    [
        ("Where is my refund?", {"refund"}),  # one content word, and still an object
        ("Avoid.", set()),
        ("@BrandifyCares Avoid.", set()),  # the handle is not a word of the sentence
    ],
)
def test_only_a_one_word_sentence_loses_its_noun_chunk(text, heads):
    lower = text.lower()
    chunks = tuple(c for c in ("refund", "avoid") if c in lower)

    lemmas = tuple(w for w in re.findall(r"[a-z]+", lower) if w not in _STOP)  # content words
    read = read_unit(text, lemmas, chunks, frozenset({"brandifycares"}))

    assert set(read.heads) == heads


def test_a_parent_is_labelled_by_what_its_children_share():
    # Two parents, each grouping two children: premium billing, and playback in the car.
    premium = [
        "Charged twice for premium this month",
        "Premium charged twice on my card",
        "I was charged twice for premium",
        "Premium cancelled but still billed",
        "Cancelled premium and still billed again",
        "Still billed after I cancelled premium",
    ]
    car = [
        "Music stops playing in the car over bluetooth",
        "Playback stops in my car on bluetooth",
        "Bluetooth in the car stops the music",
        "Car bluetooth drops and playback stops",
        "In the car the app stops playing on bluetooth",
        "Songs stop playing over car bluetooth",
    ]
    units = [_tweet(f"p{i}", t, ("premium", "card")) for i, t in enumerate(premium)]
    units += [_tweet(f"c{i}", t, ("car", "bluetooth")) for i, t in enumerate(car)]
    parents = np.array([0] * 6 + [1] * 6)
    result = CtfidfLabeller().label(units, _vectors(parents), parents)
    assert "premium" in result[0].label, result[0].label
    assert "car" in result[1].label or "bluetooth" in result[1].label, result[1].label


def test_a_parent_takes_the_offered_child_label_most_of_its_members_hold():
    parcel = [f"My parcel never arrived, day {d}" for d in range(8)]
    order = [
        "Wrong order number on my receipt",
        "Order number wrong again",
        "Order number is wrong",
    ]
    units = [_unit(f"u{i}", text) for i, text in enumerate(parcel + order)]
    members = [read_unit(u.text, u.lemmas, u.noun_chunks, frozenset()) for u in units]

    assert (
        most_held_label("order number", ["parcel never arrived"], members) == "parcel never arrived"
    )
    assert (
        most_held_label("parcel never arrived", ["order number"], members) == "parcel never arrived"
    )
    assert most_held_label("screen flickers", [NO_PROBLEM_LABEL], members) == "screen flickers"
    assert most_held_label(NO_PROBLEM_LABEL, ["order number"], members) == NO_PROBLEM_LABEL


def test_only_a_negation_in_its_phrase_puts_a_word_in_doubt():
    read = read_unit("No songs show up in my library", (), (), frozenset())
    assert "song" in read.negated_stems
    assert not read_unit("The songs skip after ten seconds", (), (), frozenset()).negated_stems
    assert "log" in read_unit("Still can't log in", (), (), frozenset()).negated_stems


def test_a_negated_label_is_said_only_by_members_that_negate_it():
    skipping = [f"The songs skip after {n} seconds on shuffle" for n in range(8)]
    missing = ["No songs show up in my library", "No songs at all after the update"]
    units = [_unit(f"u{i}", text) for i, text in enumerate(skipping + missing)]
    members = [read_unit(u.text, u.lemmas, u.noun_chunks, frozenset()) for u in units]

    # Every member names songs, two of ten say there are none: "songs skip" is said more.
    assert most_held_label("no songs", ["songs skip"], members) == "songs skip"
    assert most_held_label("songs skip", ["no songs"], members) == "songs skip"


def test_a_cluster_that_names_errors_is_not_labelled_by_the_few_that_deny_one():
    texts = [
        "Error code 17 when I play a song",
        "The song stops with error code 17",
        "Error code 17 again on every song",
        "I get error code 17 in the middle of a song",
        "Each song fails with error code 17",
        "Songs stop, error code 17 shows",
        "It just stops, no error at all",
        "No error message, the song just stops",
    ]
    units = [_unit(f"u{i}", text) for i, text in enumerate(texts)]
    labels = np.zeros(len(units), dtype=np.int32)
    others = [_unit(f"r{i}", text) for i, text in enumerate(REFUND)]
    labels = np.concatenate([labels, np.ones(len(others), dtype=np.int32)])

    label = CtfidfLabeller().label(units + others, _vectors(labels), labels)[0].label

    assert "error" in label and not label.startswith(("no ", "not ")), label


def test_a_label_says_two_things_not_a_word_and_a_filler():
    texts = [
        "Only one playlist shows, the others vanished",
        "One playlist left, the rest vanished",
        "One playlist is all that is left, twenty vanished",
        "Just one playlist after the update, others vanished",
        "My playlists vanished, one playlist remains",
        "One playlist remains in my library",
        "Why only one playlist?",
        "One playlist is all I have",
    ]
    # spaCy keeps a number in a noun chunk: "one playlist" is one, a word and a filler.
    units = [_unit(f"u{i}", text, ("one playlist",)) for i, text in enumerate(texts)]
    others = [_unit(f"r{i}", text) for i, text in enumerate(REFUND)]
    labels = np.array([0] * len(units) + [1] * len(others), dtype=np.int32)

    label = CtfidfLabeller().label(units + others, _vectors(labels), labels)[0].label

    assert label != "one playlist" and "playlist" in label, label


def test_a_plural_in_a_noun_chunk_makes_its_singular_a_noun_too():
    read = read_unit("My songs keep skipping", ("song", "keep", "skip"), ("songs",), frozenset())
    assert {"songs", "song"} <= read.chunk_words
    assert "skip" not in read.chunk_words


def test_a_parent_keeps_its_own_label_when_no_offer_is_held_more():
    units = [_unit(f"p{i}", t) for i, t in enumerate(REFUND)]
    parent = np.zeros(len(units), dtype=np.int32)
    labeller = CtfidfLabeller()
    own = labeller.label(units, _vectors(parent), parent)[0].label

    offered = {0: ["screen flickers", NO_PROBLEM_LABEL]}

    assert labeller.label(units, _vectors(parent), parent, offered=offered)[0].label == own


def test_redacted_personal_data_never_reaches_a_label():
    # Complaint narratives come with personal data redacted to "XXXX" by their source.
    texts = [
        f"XXXX XXXX reported a late payment on my XXXX account in XX/XX/{year}"
        for year in range(2010, 2020)
    ]
    units = [
        _tweet(f"x{i}", t, ("xxxx xxxx", "late payment", "xxxx account"))
        for i, t in enumerate(texts)
    ]
    labels = np.zeros(len(units), dtype=int)
    result = CtfidfLabeller().label(units, _vectors(labels), labels)[0]
    for text in (result.label, *result.keyphrases):
        assert not re.search(r"\bxx+\b", text), text
    assert "late payment" in result.label, result.label


def test_the_brand_is_no_subject_when_its_handle_was_cut_before_labelling():
    # Units as the flow makes them: normalisation cut "@BrandifyCares" out of every tweet, so
    # only the caller (who read the comments as written) knows whom they were written to.
    mentions = [
        "Brandify 8.4.26 on iOS 11",
        "Brandify on my phone, version 8.4",
        "I use Brandify on Windows 10",
        "Brandify on android 7, same thing",
        "Brandify on my mac desktop",
        "Brandify on iPhone 8 plus",
        "reinstalled Brandify on my phone",
        "Brandify on my laptop and phone",
    ]
    others = [SHUFFLE, OFFLINE, REFUND_TWEETS]
    clusters = [mentions] + [
        [
            t
            for t in (re.sub(r"\s*@BrandifyCares,?\s*", " ", x).strip() for x in texts)
            if "Brandify" not in t
        ]
        for texts in others
    ]
    chunks = [("brandify", "phone", "version"), *(TWEET_CHUNKS[k] for k in range(3))]
    units = [
        _tweet(f"c{k}-{i}", text, chunks[k])
        for k, texts in enumerate(clusters)
        for i, text in enumerate(texts)
    ]
    labels = np.repeat(np.arange(len(clusters)), [len(t) for t in clusters])
    vectors = _vectors(labels)

    blind = CtfidfLabeller().label(units, vectors, labels)
    told = CtfidfLabeller().label(units, vectors, labels, frozenset({"brandifycares"}))

    assert "brandify" in blind[0].label  # the brand passes for the subject, and specific
    # Told, the cluster is what it is: devices and versions, no problem named, not specific.
    assert told[0].label == NO_PROBLEM_LABEL and "brandify" not in told[0].keyphrases
    assert told[0].specificity < 0.5 < blind[0].specificity
    assert [told[k].label for k in (1, 2, 3)] == [blind[k].label for k in (1, 2, 3)]


def test_the_brand_name_is_a_word_that_covers_most_of_its_handle():
    texts = ["spotify skips my spot in the song", "spot the bug in spotify", "spotify again"]
    read = {i: read_unit(t, tuple(t.split()), (), frozenset()) for i, t in enumerate(texts)}
    corpus = Corpus(read, [np.array([0, 1, 2])], frozenset({"spotifycares"}))

    assert not corpus.is_specific_word("spotify")  # the brand of @SpotifyCares
    assert corpus.is_specific_word("spot")  # begins the handle, but is no name of the brand


def _label_beside(texts, chunks, *neighbours):
    """The label of ``texts`` (each with noun ``chunks``), clustered beside ``neighbours``.

    Each neighbour is a cluster: its texts and their noun chunks.
    """
    groups = [(texts, chunks), *neighbours]
    units = [_unit(f"{k}-{i}", t, c) for k, (ts, c) in enumerate(groups) for i, t in enumerate(ts)]
    labels = np.repeat(np.arange(len(groups)), [len(ts) for ts, _ in groups])
    return CtfidfLabeller().label(units, _vectors(labels), labels)[0]


def _label_beside_logouts(texts, chunks):
    """The label of ``texts`` (each with noun ``chunks``), clustered beside three logouts."""
    others = ["The app logs me out every day.", "The app logged me out again.", "Logged out twice."]
    return _label_beside(texts, chunks, (others, ("app",)))


def test_a_hedge_is_no_keyphrase_and_names_no_problem():
    # In the demo under float32 ONNX, "It feels like support has no memory" gave the label
    # "feels like support": "feels" counted as the word saying what goes wrong.
    texts = [
        "It feels like support has no memory, every call starts at zero.",
        "Feels like support has no memory of my last call.",
        "It feels like support has no memory at all.",
        "Honestly it feels like support has no memory.",
        "It feels like support has no memory, I start over each time.",
        "Seems like support has no memory of what I said.",
        "It feels like support has no memory, again.",
        "Feels like support has no memory whatsoever.",
    ]
    result = _label_beside_logouts(texts, ("support", "no memory", "every call"))

    assert "memory" in result.label
    assert not {"feels", "seems", "feel", "seem"} & set(" ".join(result.keyphrases).split())


def test_not_right_before_a_noun_is_no_label():
    # Two members say "not song ..." in passing; the rest say what is wrong with the songs.
    texts = [
        "It's not song specific, any track fails",
        "Not song related, the album is greyed out too",
        "The song is greyed out on my phone",
        "This song is greyed out for me",
        "A song I saved is greyed out now",
        "Half my songs show greyed out",
        "Every song in the album is greyed out",
        "My favourite song went grey",
    ]
    units = [
        _unit(f"u{i}", t, ("song",) if "song" in t.lower() else ()) for i, t in enumerate(texts)
    ]
    others = [_unit(f"r{i}", t) for i, t in enumerate(REFUND + LOGOUT)]
    labels = np.array([0] * len(units) + [1] * 10 + [2] * 10, dtype=np.int32)

    label = CtfidfLabeller().label(units + others, _vectors(labels), labels)[0].label

    assert label != "not song" and "grey" in label, label


def test_a_label_never_ends_on_a_degree_word():
    # The demo labelled this cluster "cam is a bit": "a bit" modifies what follows.
    texts = [
        "The cam is a bit bigger than I expected.",
        "The cam is a bit bigger than I expected, it sticks out.",
        "Honestly the cam is a bit bigger than I expected.",
        "The cam is a tad bigger than I expected.",
        "The cam is a bit bigger than I expected on the shelf.",
        "My cam is a bit bigger than I expected.",
    ]
    result = _label_beside_logouts(texts, ("cam",))

    assert result.label.split()[-1] not in {"bit", "tad"}
    assert "bigger" in result.label
    for text in texts:
        phrases = read_unit(text, (), (), frozenset()).phrases
        assert not {"bit", "tad"} & {w for p in phrases for w in (p.split()[0], p.split()[-1])}


def test_a_label_never_cuts_a_relative_clause_short():
    # The demo labelled this cluster "agent i spoke" (of "every agent I spoke to").
    texts = [
        "Every agent I spoke to was rude.",
        "The agent I spoke to was rude and hung up.",
        "The last agent I spoke to was rude to me.",
        "Each agent I spoke to was rude.",
        "The agent I spoke to yesterday was rude.",
        "Agent I spoke to was rude and unhelpful.",
    ]
    result = _label_beside_logouts(texts, ("agent",))

    assert not re.search(r"\bagent i\b", result.label)
    assert "rude" in result.label


def test_a_phrasal_verb_keeps_its_particle(corpus):
    # The demo's largest hassle read "app logs": a phrase cut before "me out".
    units, labels = corpus

    label = CtfidfLabeller().label(units, _vectors(labels), labels)[1].label

    assert label.endswith("logs me out"), label


# Complaint narratives name the company they complain about, capitalised, in many sentences.
BANK = [
    "Wells Fargo closed my account without any notice.",
    "I called Wells Fargo and they closed my account again.",
    "My account was closed by Wells Fargo with no reason given.",
    "Wells Fargo 's branch closed my checking account.",
    "After ten years Wells Fargo closed my account.",
    "Wells Fargo froze and then closed my account.",
    "They told me Wells Fargo closed the account for good.",
    "Wells Fargo never explained why my account was closed.",
]
BUREAU = [
    "TransUnion still reports the late payment I disputed.",
    "The late payment is still on my TransUnion report.",
    "I disputed the late payment with TransUnion twice.",
    "TransUnion will not remove a late payment that is wrong.",
    "My late payment dispute with TransUnion went nowhere.",
    "TransUnion kept the late payment after my dispute.",
]


def test_a_company_named_in_every_member_is_no_label():
    units = [_unit(f"a{i}", t, ("wells fargo", "account")) for i, t in enumerate(BANK)]
    units += [_unit(f"b{i}", t, ("transunion", "late payment")) for i, t in enumerate(BUREAU)]
    labels = np.array([0] * len(BANK) + [1] * len(BUREAU))

    result = CtfidfLabeller().label(units, _vectors(labels), labels)

    # The members all say "Wells Fargo" (a name: written with capitals inside sentences), but
    # what they complain of is the closed account; the possessive's "s" is no word of a label.
    assert {"account", "closed"} <= set(result[0].label.split())
    assert not {"wells", "fargo"} & set(result[0].label.split())
    assert "payment" in result[1].label and "transunion" not in result[1].label
    assert any("fargo" in k for k in result[0].keyphrases)  # which company, for the analyst
    assert not any(label.label.endswith(" s") for label in result.values())


def test_a_cluster_saying_only_a_name_reads_no_detail_given():
    texts = [
        "Again Wells Fargo.",
        "About Wells Fargo.",
        "Yes, Wells Fargo.",
        "So, Wells Fargo.",
        "Once more Wells Fargo.",
    ]
    label = _label_beside(texts, ("wells fargo",), (REFUND, CHUNKS[0])).label

    assert label in {"wells fargo (no detail given)", "fargo (no detail given)"}


def test_a_name_is_written_with_capitals_inside_sentences():
    texts = [
        "I closed my Wells Fargo account.",
        "Then Wells Fargo said no, and ATM fees rose.",
        "Wells Fargo charged me.",  # first in its sentence: says nothing
        "The bank wells up with fees at Wells Fargo.",  # "wells" once lower case
        "Spotify Keeps Crashing On My Phone And Tablet",  # title case: says nothing
        "my phone and the ATM",
    ]
    read = {i: read_unit(t, (), (), frozenset()) for i, t in enumerate(texts)}
    corpus = Corpus(read, [np.arange(len(texts))], frozenset())

    assert corpus.is_name("fargo")  # capitalised in all three units writing it inside
    assert not corpus.is_name("wells")  # 2 of 3: "wells up" is lower case
    assert not corpus.is_name("atm")  # capitals only: an acronym, no name
    assert not corpus.is_name("phone") and not corpus.is_name("keeps")
    assert not corpus.is_name("charged")
    assert corpus.names_only("fargo bank") and not corpus.names_only("fargo charged me")
    assert not corpus.names_only("bank")  # an organisation word alone is no name


def test_a_phrase_cut_from_inside_a_name_is_no_label_but_a_name_with_its_problem_is():
    texts = [
        "Wells Fargo closed my account.",
        "Last week Wells Fargo closed my account.",
        "So Wells Fargo closed my account.",
        "Wells Fargo closed my account too.",
    ]
    read = {i: read_unit(t, (), (), frozenset()) for i, t in enumerate(texts)}
    corpus = Corpus(read, [np.arange(len(texts))], frozenset())

    assert corpus.cuts_a_name("fargo closed my account")  # "fargo" is written after "Wells"
    assert corpus.cuts_a_name("week wells")  # ends on a name's first word
    assert not corpus.cuts_a_name("wells fargo closed") and not corpus.cuts_a_name(
        "closed my account"
    )


def test_a_product_named_with_its_problem_keeps_the_label():
    watch = [
        "Still no Apple Watch app, so I run with my phone.",
        "When will you make an Apple Watch app?",
        "Please build an Apple Watch app already.",
        "I need an Apple Watch app for my runs.",
        "Is an Apple Watch app coming?",
        "No Apple Watch app yet, really?",
    ]
    label = _label_beside(watch, ("apple watch app",), (REFUND, CHUNKS[0])).label

    # "apple watch" names a product alone; with "app" it names what is missing.
    assert "app" in label.split() and label != "apple watch"


def test_a_label_is_not_cut_from_inside_a_name():
    bank = [
        "Wells Fargo closed my account.",
        "Last week Wells Fargo closed my account.",
        "So Wells Fargo closed my account.",
        "Wells Fargo closed my account too.",
        "Then Wells Fargo closed my account.",
        "Sadly Wells Fargo closed my account again.",
    ]
    # Others say "closed my account" too, so the phrase with a name in it is the rarer.
    others = [
        "Chase closed my account and kept my money.",
        "My credit union closed my account without warning.",
        "The bank closed my account after a dispute.",
        "They closed my account, no reason given.",
    ]
    label = _label_beside(
        bank, ("wells fargo", "account"), (REFUND, CHUNKS[0]), (others, ("account",))
    ).label

    assert label.split()[0] != "fargo" and "closed" in label.split()


def test_swearing_is_no_label_nor_keyphrase():
    texts = [
        "Bitch I pay for this shit and the songs skip.",
        "This shit skips songs all day.",
        "The songs skip, total bullshit.",
        "Fucking songs skip again.",
        "Why the fuck do songs skip?",
    ]
    result = _label_beside(texts, ("songs",), (REFUND, CHUNKS[0]))

    swearing = {"bitch", "shit", "bullshit", "fucking", "fuck"}
    assert swearing.isdisjoint(result.label.split()) and "skip" in result.label
    assert not any(swearing & set(k.split()) for k in result.keyphrases)
