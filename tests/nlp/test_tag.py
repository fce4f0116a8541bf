import numpy as np
import pytest
from conftest import BagOfWordsEmbedder

from config.taxonomy import Label, Taxonomy, load_taxonomy
from nlp.tag import (
    PainClassifier,
    PrototypeTagger,
    calibrate_temperature,
    denies_a_problem,
    reports_a_fix,
    weigh_by_rating,
)
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


class SmallBagOfWordsEmbedder(BagOfWordsEmbedder):
    """Another model: vectors of another length, so that mixing the two up fails loudly."""

    model_id = "small-bag-of-words@test"
    dimension = 64


def test_a_pain_model_scores_pain_and_the_embedding_model_the_stage_and_theme():
    pain_model = SmallBagOfWordsEmbedder()
    tagger = PrototypeTagger(
        TAXONOMY, BagOfWordsEmbedder(), min_confidence=0.6, pain_embedder=pain_model
    )
    # Each row's stage and theme come from one sentence, its pain score from another.
    told = ["my parcel arrived late again", "a hidden fee on my bill"]
    judged = ["love it, thank you so much", "still waiting weeks for my parcel"]

    first, second = tagger.tag(
        BagOfWordsEmbedder().encode(told), pain_vectors=pain_model.encode(judged)
    )

    assert (first.stage, first.theme) == ("delivery", "waiting")
    assert (second.stage, second.theme) == ("billing", "surprise_cost")
    assert not first.is_pain_point and second.is_pain_point
    assert tagger.pain.scores(pain_model.encode(judged)).tolist() == [
        pytest.approx(first.pain_score, abs=1e-4),
        pytest.approx(second.pain_score, abs=1e-4),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I had no problem with delivery.",
        "Never had an issue with billing.",
        "Nothing wrong with the app so far",
        "no complaints about the support team",
        "Setup went fine, not a single problem",
        "Honestly zero issues since I switched",
        "We have never been disappointed with their delivery.",
        "You can't go wrong with the basic plan",
        "The new app didn't disappoint",
        "It has never let us down in five years",
        "Order it, you won’t be disappointed!",
        "Three visits and not once has a delivery disappointed",
        "Try the family plan, you won't be sorry",
        "For the price, the plan can't be beat",
        "you cant beat their prices",
        "The pasta cannot be beaten",
        "The photos really don't do it justice",
        "order it, you wont be sorry",
        "never been disapointed by this shop",
        "The app has not dissapointed me once",
        "They swapped the faulty charger without any fuss",
        "It's no-fuss, quick and cheap",
        "Returned it with zero fuss",
        "The plan was worth every penny",
    ],
)
def test_a_sentence_denying_a_problem_is_recognised(text):
    assert denies_a_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "No problem with delivery, but the box was crushed",
        "never had an issue until this week's update",
        "no one fixed my problem",
        "There is no way to fix this problem",
        "still no refund and the problem is not solved",
        "the problem is that nothing works",
        "I have a problem with my bill",
        "I have never been so disappointed",
        "never been more disappointed in a bank",
        "I can't believe how disappointing the upgrade was",
        "you will not only regret it, you'll pay twice",
        "Never disappointed before, but this update is awful",
        "Cancelled my account, no regrets",
        "Switched banks and never regretted it",
        "You can't go wrong with them unless you need support",
        "Not once did support answer, I'm disappointed",
        "I can't beat this level since the update",
        "Nice photos, but they don't do the sizing chart justice",
        "Really dissapointed, the app never loads",
        "Not once has the app worked im so dissapointed",
        "Not once have they failed to disappoint",
        "But it is never disappointing, even if the fees are over the top",
        "I won't be sorry to leave this bank",
        "The photos don't do the damage justice",
        "It isn't worth every penny they charge",
        "Not worth every penny, it broke in a week",
        "isnt even worth every penny",
        "Premium used to be worth every penny",
        "Is the family plan worth every penny?",
        "I made no fuss about the first two broken units",
        "Never made a fuss in ten years and now you charge me twice",
        "Worth every penny until the strap broke",
        "They made such a fuss about my refund",
        "A never-ending list of problems with this hotel",
    ],
)
def test_a_sentence_with_a_problem_is_not_taken_for_a_denial(text):
    assert not denies_a_problem(text)


def test_a_denied_problem_is_never_a_pain_point_whatever_its_score(tagger):
    texts = [
        "my parcel arrived late, no problem with the bill though",
        "no problem with the late parcel",
    ]
    vectors = BagOfWordsEmbedder().encode(texts)
    scored = tagger.tag(vectors)
    assert [t.is_pain_point for t in scored] == [True, True]  # both score as complaints
    with_texts = tagger.tag(vectors, texts=texts)
    assert [t.is_pain_point for t in with_texts] == [True, False]
    assert [t.pain_score for t in with_texts] == [t.pain_score for t in scored]


@pytest.mark.parametrize(
    "text",
    [
        "Support sorted my issue in one call.",
        "The latest update fixed it, thanks for your work",
        "It worked! Thank you so much",
        "All good now, everything is working now",
        "Logging out and back in solved it.",
        "the issue is resolved, thank you",
        "it's fixed now, cheers",
    ],
)
def test_a_sentence_reporting_a_fix_is_recognised(text):
    assert reports_a_fix(text)


@pytest.mark.parametrize(
    "text",
    [
        "They fixed it but it broke again",
        "But they fixed it, but it broke again",
        "finally sorted after three weeks",
        "Has it been fixed?",
        "it worked until the update",
        "nobody fixed my problem",
        "I fixed it myself by reinstalling, your app is garbage",
        "It fixed nothing",
        "it worked for a day",
        "They said it was resolved and closed the ticket",
        "I was told the problem was fixed",
        "the agent solved it only after two hours on hold",
        "a lining might have solved the problem of the itchy fabric",
        "the wifi was fine, the rare times that it worked",
        "I'd like this resolved this week.",
        "please get it sorted asap",
        "I need this fixed before Friday",
    ],
)
def test_a_sentence_with_a_hassle_is_not_taken_for_a_fix(text):
    assert not reports_a_fix(text)


def test_a_reported_fix_is_never_a_pain_point_whatever_its_score(tagger):
    texts = ["support sorted my issue but my parcel is still late", "support sorted my issue"]
    vectors = BagOfWordsEmbedder().encode(texts)
    with_texts = tagger.tag(vectors, texts=texts)
    assert [t.pain_score for t in with_texts] == [t.pain_score for t in tagger.tag(vectors)]
    assert [t.is_pain_point for t in tagger.tag(vectors)] == [True, True]
    assert [t.is_pain_point for t in with_texts] == [True, False]


def test_a_rating_weighs_the_complaint_probability_by_bayes_rule():
    probabilities = np.array([0.6, 0.92, 0.2, 0.5, 0.6, 0.6])
    dissatisfaction = [0.0, 0.0, 1.0, None, 0.5, 0.25]  # 5 stars, 5, 1, none, 3, 4
    weighed = weigh_by_rating(probabilities, dissatisfaction, delighted=0.1, furious=0.8)
    # 5 stars: prior 0.1, odds 1.5 * 1/9; 1 star: odds 0.25 * 4; 4 stars: prior 0.3.
    assert weighed == pytest.approx(
        [1 / 7, 0.92 * 0.1 / (0.92 * 0.1 + 0.08 * 0.9), 0.5, 0.5, 0.6, 0.39134], abs=1e-4
    )
    # No rating and a middling one leave the probability as it is; 0.5 priors change nothing.
    assert weigh_by_rating(probabilities, [0.0] * 6, delighted=0.5, furious=0.5) == pytest.approx(
        probabilities
    )


def test_a_row_without_a_rating_takes_its_channels_prior_and_a_rated_row_ignores_it():
    probabilities = [0.2, 0.2, 0.2]
    weighed = weigh_by_rating(
        probabilities, [None, None, 1.0], delighted=0.1, furious=0.8, unrated=[0.8, 0.5, 0.5]
    )
    # odds 0.25 * 4 = 1 for the ticket; unchanged at 0.5; the 1-star row takes its rating.
    assert weighed == pytest.approx([0.5, 0.2, 0.5])
    one_value = weigh_by_rating(
        probabilities, [None, 0.0, None], delighted=0.1, furious=0.8, unrated=0.8
    )
    assert one_value[0] == one_value[2] == pytest.approx(0.5)
    assert one_value[1] == pytest.approx(0.25 * (1 / 9) / (1 + 0.25 / 9))


def test_the_tagger_weighs_an_unrated_row_by_its_prior():
    tagger = PrototypeTagger(TAXONOMY, BagOfWordsEmbedder(), pain_prior=(0.1, 0.8))
    texts = ["the parcel arrived late"] * 3
    vectors = BagOfWordsEmbedder().encode(texts)
    plain = tagger.tag(vectors, texts=texts)
    weighed = tagger.tag(
        vectors, texts=texts, dissatisfaction=[None, None, 0.0], unrated_prior=[0.8, 0.5, 0.8]
    )
    assert weighed[1].pain_score == pytest.approx(plain[1].pain_score)
    assert weighed[0].pain_score > plain[0].pain_score > weighed[2].pain_score


def test_the_tagger_weighs_pain_by_the_writers_rating_and_records_the_weighed_score():
    tagger = PrototypeTagger(TAXONOMY, BagOfWordsEmbedder(), pain_prior=(0.1, 0.8))
    texts = ["the parcel arrived late", "the parcel arrived late", "the parcel arrived late"]
    vectors = BagOfWordsEmbedder().encode(texts)
    plain = tagger.tag(vectors, texts=texts)
    rated = tagger.tag(vectors, texts=texts, dissatisfaction=[0.0, None, 1.0])
    assert plain[0].pain_score == rated[1].pain_score  # no rating: as without
    assert rated[0].pain_score < rated[1].pain_score < rated[2].pain_score
    assert rated[0].is_pain_point is (rated[0].pain_score >= tagger.pain.threshold)
    unweighed = PrototypeTagger(TAXONOMY, BagOfWordsEmbedder())  # (0.5, 0.5) by default
    assert [t.pain_score for t in unweighed.tag(vectors, dissatisfaction=[0.0, None, 1.0])] == [
        plain[0].pain_score
    ] * 3


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


def test_without_no_hassle_examples_every_unit_is_a_pain_point():
    bare = TAXONOMY.model_copy(update={"no_hassle": ()})
    tags = PrototypeTagger(bare, BagOfWordsEmbedder()).tag(
        BagOfWordsEmbedder().encode(["love it works great", "still waiting weeks"])
    )
    assert [t.is_pain_point for t in tags] == [True, True]
    assert [t.pain_score for t in tags] == [1.0, 1.0]


def test_an_empty_pain_example_is_refused():
    with pytest.raises(ValueError, match="empty"):
        Taxonomy.model_validate({**TAXONOMY.model_dump(), "pain_points": ("ok", " ")})


# Sentences written for this test (none is an example in config/taxonomy.yaml), scored by the
# real embedder against the bundled taxonomy, as enrich does.
NOT_PAIN = [
    "Thanks! I sent to you in dm.",
    "thank you so much, you guys rock",
    "Hi there, hope you're having a good week",
    "awesome, that did the trick",
    "Do you ship to Norway?",
    "The staff were lovely and the room was spotless",
    "Just followed you!",
    "Great little cafe, we'll be back",
    "Yes, that's my account email",
    "Good morning from Berlin",
    "my order arrived today, cheers",
]
PAIN = [
    "I love the app but it crashes every time I open a playlist",
    "Great hotel, but the air con was broken the whole stay",
    "The refund still hasn't reached my account after three weeks",
    "my flight got cancelled and nobody offered a new one",
    "the waiter forgot our mains and never apologised",
    "the trousers fell apart after two washes",
    "the VPN disconnects every hour",
    "you charged my card twice this month",
    "my parcel is lost and support won't answer",
    "the soup was cold and way too salty",
    "it didn't work 😢",
]


@pytest.fixture(scope="module")
def real_pain():
    from models import load_embedder

    embedder = load_embedder(backend="torch")
    return PainClassifier(load_taxonomy(), embedder), embedder


@pytest.mark.e2e
def test_praise_thanks_and_chit_chat_are_not_pain_points(real_pain):
    classifier, embedder = real_pain
    scores = classifier.scores(embedder.encode(NOT_PAIN))
    passed = [text for text, score in zip(NOT_PAIN, scores, strict=True) if score >= 0.5]
    assert passed == []


@pytest.mark.e2e
def test_complaints_are_pain_points_even_beside_praise(real_pain):
    classifier, embedder = real_pain
    scores = classifier.scores(embedder.encode(PAIN))
    missed = [text for text, score in zip(PAIN, scores, strict=True) if score < 0.5]
    assert missed == []
