from nlp.units import build_matcher, split_sentences

PATTERNS = [
    (
        "stage",
        "need_end",
        [
            [
                {"LEMMA": {"IN": ["cancel", "close"]}},
                {"POS": {"IN": ["DET", "PRON"]}, "OP": "?"},
                {"LEMMA": {"IN": ["subscription", "account"]}},
            ]
        ],
    ),
    ("stage", "delivery", [[{"LEMMA": {"IN": ["delivery", "courier", "parcel"]}}]]),
]


def test_sentences_keep_offsets_into_the_comment(spacy_nlp):
    text = "The app crashes. I had to cancel my subscription!"
    [sentences] = list(split_sentences(spacy_nlp, [text]))
    assert [s.text for s in sentences] == ["The app crashes.", "I had to cancel my subscription!"]
    for s in sentences:
        assert text[s.start : s.end] == s.text
    assert "crash" in sentences[0].lemmas and "app" in sentences[0].noun_chunks


def test_noun_chunks_drop_determiners_but_keep_a_negating_one(spacy_nlp):
    texts = ["Still no refund.", "The app logs me out.", "No cancel option in my account."]
    chunks = [sentences[0].noun_chunks for sentences in split_sentences(spacy_nlp, texts)]
    assert any("no refund" in chunk for chunk in chunks[0])
    assert "still refund" not in chunks[0]
    assert "app" in chunks[1] and "the app" not in chunks[1]
    assert "account" in chunks[2]


def test_pattern_hits_are_negation_aware(spacy_nlp):
    matcher = build_matcher(spacy_nlp, PATTERNS)
    texts = [
        "I had no problem with delivery.",
        "The delivery was a week late.",
        "I want to cancel my subscription.",
    ]
    results = [sentences[0] for sentences in split_sentences(spacy_nlp, texts, matcher=matcher)]
    assert [(h.label, h.negated) for h in results[0].hits] == [("delivery", True)]
    assert results[0].negated
    assert [(h.label, h.negated) for h in results[1].hits] == [("delivery", False)]
    assert [(h.label, h.negated) for h in results[2].hits] == [("need_end", False)]


def test_sentences_without_words_are_skipped(spacy_nlp):
    [sentences] = list(split_sentences(spacy_nlp, ["!!! ... Great."]))
    assert [s.text for s in sentences] == ["Great."] or all(
        any(c.isalpha() for c in s.text) for s in sentences
    )
