import numpy as np
import pytest
from conftest import BagOfWordsEmbedder

from config.taxonomy import Label, Taxonomy
from nlp.tag import PrototypeTagger, calibrate_temperature
from nlp.units import PatternHit

TAXONOMY = Taxonomy(
    version=1,
    stages=(
        Label(
            key="delivery",
            name="Delivery",
            examples=("parcel arrived late", "courier lost my parcel", "tracking never updates"),
        ),
        Label(
            key="billing",
            name="Billing",
            examples=("extra fee on my bill", "charged twice on my invoice", "bill is wrong"),
        ),
    ),
    themes=(
        Label(
            key="waiting",
            name="Waiting",
            examples=("arrived late", "still waiting weeks", "took forever"),
        ),
        Label(
            key="surprise_cost",
            name="Surprise cost",
            examples=("extra fee", "charged twice", "hidden charge"),
        ),
    ),
    no_hassle=("love it works great", "thank you so much"),
)


@pytest.fixture(scope="module")
def tagger():
    return PrototypeTagger(TAXONOMY, BagOfWordsEmbedder(), min_confidence=0.6)


def test_tags_follow_the_examples(tagger):
    vectors = BagOfWordsEmbedder().encode(
        ["my parcel arrived late again", "a hidden fee on my bill"]
    )
    first, second = tagger.tag(vectors)
    assert (first.stage, first.theme) == ("delivery", "waiting")
    assert (second.stage, second.theme) == ("billing", "surprise_cost")
    assert first.method == "stage:similarity+patterns,theme:similarity+patterns"
    assert 0.6 <= first.stage_confidence <= 1


def test_low_confidence_becomes_unassigned(tagger):
    [tag] = tagger.tag(BagOfWordsEmbedder().encode(["zebra quantum marmalade"]))
    assert tag.stage == "unassigned" and tag.theme == "unassigned"


def test_praise_is_not_a_pain_point(tagger):
    pain, praise = tagger.tag(
        BagOfWordsEmbedder().encode(
            ["still waiting weeks for my parcel", "love it, thank you so much"]
        )
    )
    assert pain.is_pain_point and not praise.is_pain_point


def test_a_pattern_hit_counts_only_when_not_negated(tagger):
    vectors = BagOfWordsEmbedder().encode(["it was a bit late and the bill too"] * 3)
    plain, boosted, negated = tagger.tag(
        vectors,
        [[], [PatternHit("stage", "billing", False)], [PatternHit("stage", "billing", True)]],
    )
    billing = lambda t: t.stage_confidence if t.stage == "billing" else 1 - t.stage_confidence  # noqa: E731
    assert billing(boosted) > billing(plain) == billing(negated)


def test_labelled_examples_switch_a_dimension_to_a_classifier():
    labelled = [
        ("stage", "billing", "invoice copy please"),
        ("stage", "delivery", "where is the van"),
    ]
    tagger = PrototypeTagger(TAXONOMY, BagOfWordsEmbedder(), labelled=labelled)
    assert tagger.method == "stage:logreg,theme:similarity+patterns"
    [tag] = tagger.tag(BagOfWordsEmbedder().encode(["can I have an invoice copy"]))
    assert tag.stage == "billing"


def test_temperature_is_calibrated_on_the_examples(tagger):
    temperature = calibrate_temperature(tagger.prototypes["stage"])
    assert 0.005 <= temperature <= 0.5
    assert np.isfinite(temperature)


def test_the_taxonomy_version_changes_with_any_edit():
    edited = TAXONOMY.model_copy(update={"no_hassle": ("love it",)})
    assert edited.version == TAXONOMY.version and edited.version_id != TAXONOMY.version_id
