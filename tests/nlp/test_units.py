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


RUN_ON = (
    "stayed four nights for a conference and the location near the convention centre was handy, "
    "the room smelled musty and the carpet by the window had a stain nobody had cleaned, "
    "but the front desk staff were friendly and moved us to another floor the next morning"
)


def test_a_run_on_sentence_is_cut_into_clauses_that_keep_their_offsets(spacy_nlp):
    [whole] = list(split_sentences(spacy_nlp, [RUN_ON]))
    [cut] = list(split_sentences(spacy_nlp, [RUN_ON], run_on_words=30, clause_words=8))
    assert len(whole) == 1
    assert [s.text.split()[0] for s in cut] == ["stayed", "the", "but"]
    assert cut[1].text.startswith("the room smelled musty") and cut[1].text.endswith("cleaned,")
    assert [s.index for s in cut] == [0, 1, 2]
    for s in cut:
        assert RUN_ON[s.start : s.end] == s.text
        assert sum(w.isalpha() for w in s.text.split()) >= 8
    assert "carpet" in cut[1].noun_chunks and "carpet" not in cut[0].noun_chunks


def test_a_sentence_within_the_limit_or_without_a_cut_stays_whole(spacy_nlp):
    short = "The room smelled musty, the carpet was stained, and the wifi kept dropping."
    no_place = " ".join(["word"] * 40)
    texts = [short, no_place]
    results = list(split_sentences(spacy_nlp, texts, run_on_words=30, clause_words=8))
    assert [[s.text for s in sentences] for sentences in results] == [[short], [no_place]]


def test_a_cut_never_leaves_a_clause_shorter_than_the_minimum(spacy_nlp):
    text = RUN_ON + ", thanks"
    [cut] = list(split_sentences(spacy_nlp, [text], run_on_words=30, clause_words=8))
    assert cut[-1].text.endswith("thanks")
    assert all(sum(w.isalpha() for w in s.text.split()) >= 8 for s in cut)


def test_praise_and_a_complaint_in_one_sentence_are_cut_at_the_contrast(spacy_nlp):
    texts = [
        "The staff are lovely, but the app logs me out every day.",
        "They fixed it but it broke again.",
        "Good, but slow.",
        "Although the parcel came late I like the case.",
    ]
    results = list(split_sentences(spacy_nlp, texts, contrast_words=3))
    assert [[s.text for s in sentences] for sentences in results] == [
        ["The staff are lovely,", "but the app logs me out every day."],
        ["They fixed it", "but it broke again."],
        ["Good, but slow."],  # fewer than three words a side: whole
        ["Although the parcel came late I like the case."],  # nothing before the contrast
    ]
    for text, sentences in zip(texts, results, strict=True):
        assert all(text[s.start : s.end] == s.text for s in sentences)
    assert [[s.text for s in ss] for ss in split_sentences(spacy_nlp, texts[:1])] == [texts[:1]]


def test_a_contrast_cut_counts_words_after_the_contrast_and_skips_idioms(spacy_nlp):
    texts = [
        "The staff were lovely but very slow.",  # two words after "but": whole
        "I have had nothing but problems with this phone lately.",
        "The app crashed even though I had just updated it.",
    ]
    results = list(split_sentences(spacy_nlp, texts, contrast_words=3))
    assert [[s.text for s in sentences] for sentences in results] == [[t] for t in texts]


def test_cjk_text_is_split_at_its_full_stops(spacy_nlp):
    texts = [
        "アプリが起動しません。毎回クラッシュします。",
        "退款一直没有到账。客服不回复。",
        "退款没到账，客服不回复！真的很差？还是没有",
    ]
    results = list(split_sentences(spacy_nlp, texts))
    assert [[s.text for s in sentences] for sentences in results] == [
        ["アプリが起動しません。", "毎回クラッシュします。"],
        ["退款一直没有到账。", "客服不回复。"],
        ["退款没到账，客服不回复！", "真的很差？", "还是没有"],
    ]
    for text, sentences in zip(texts, results, strict=True):
        assert [s.index for s in sentences] == list(range(len(sentences)))
        assert all(text[s.start : s.end] == s.text for s in sentences)


def test_cjk_and_english_in_one_comment_each_keep_their_sentences(spacy_nlp):
    text = "退款没到账。The app crashes. It logs me out every day."
    [sentences] = list(split_sentences(spacy_nlp, [text]))
    assert [s.text for s in sentences] == [
        "退款没到账。",
        "The app crashes.",
        "It logs me out every day.",
    ]


def test_zalgo_text_keeps_its_unit_as_written(spacy_nlp):
    text = "t̷h̷e̷ ̷a̷p̷p̷ ̷c̷r̷a̷s̷h̷e̷s̷"
    [sentences] = list(split_sentences(spacy_nlp, [text]))
    assert [s.text for s in sentences] == [text]
    assert (sentences[0].start, sentences[0].end) == (0, len(text))
