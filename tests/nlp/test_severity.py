import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.severity import (
    add_service_lexicon,
    intensity_cues,
    score_severity,
    sentence_sentiment,
    source_signal,
)


@pytest.fixture(scope="module")
def vader():
    return add_service_lexicon(SentimentIntensityAnalyzer())


@pytest.mark.parametrize(
    ("rating", "score", "kind", "expected"),
    [
        (1, None, None, 1.0),
        (5, None, None, 0.0),
        (3, None, None, 0.5),
        (None, 0, "nps", 1.0),
        (None, 10, "nps", 0.0),
        (None, 1, "csat", 1.0),
        (None, None, None, None),
    ],
)
def test_source_signal_maps_stars_and_scores(rating, score, kind, expected):
    assert source_signal(rating, score, kind) == expected


def test_intensity_cues_are_named():
    cues = intensity_cues("NEVER AGAIN!!! I'm switching to a competitor and cancelling")
    assert {"never_again", "switching", "cancel", "exclamation", "capitals"} <= set(cues)
    assert intensity_cues("Works fine, thanks.") == []


def test_an_exports_mask_is_no_shouting():
    # The CFPB masks what it redacts as XXXX: 1,644 of 5,564 narrative sentences read as shouted.
    assert intensity_cues("On XX/XX/2023 I called XXXX XXXX about my account.") == []
    assert intensity_cues("XXXX XXXX Account Number : XXXX") == []
    assert "capitals" in intensity_cues("XXXX charged me TWICE and nobody called back")


def test_a_negation_in_one_sentence_does_not_flip_the_next(vader):
    assert (
        vader.polarity_scores("Refund still not here. Absolutely unacceptable.")["compound"] > 0
    )  # VADER's flaw
    assert sentence_sentiment("Refund still not here. Absolutely unacceptable.", vader) < -0.5


def test_severity_orders_an_angry_one_star_above_mild_praise(vader):
    angry = score_severity("Worst service ever. Never again, I'm switching!!", vader, rating=1)
    mild = score_severity("Nice little plug, works fine.", vader, rating=5)
    assert 0 <= mild.value < 0.3 < 0.7 < angry.value <= 1
    assert set(angry.parts) == {"source", "text", "intensity", "cues"}


def test_missing_parts_are_left_out_of_the_weighting(vader):
    without_source = score_severity("It's broken.", vader)
    assert without_source.parts["source"] is None
    assert 0 < without_source.value < 1
