"""Who says a label, and when a kept hassle keeps its label (nlp.label_support)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as _STOP

from nlp.label import ClusterLabel
from nlp.label_support import (
    NO_PROBLEM_LABEL,
    keep_label,
    label_share,
    most_held_label,
    negates_a_noun,
    night_corpus,
    tell_apart,
)
from nlp.terms import read_unit
from nlp.two_level import (
    Labels,
    LevelIds,
    Tracked,
    TwoLevel,
    hassle_versions,
    kept_label,
    published_labels,
    redacted_label_input,
)

# --- a kept hassle's label ------------------------------------------------------------------

SHUFFLE = [
    "Shuffle keeps repeating the same two songs",
    "shuffle repeats songs from one artist",
    "Shuffle repeats the same songs every day",
    "why does shuffle repeat songs so often",
    "Shuffle plays songs in album order",
    "my playlist shuffle is broken",
    "the app crashes when I open a playlist",
    "cannot play my downloads offline",
]


def _read(texts):
    """What each text reads as; its words outside sklearn's stop list stand in for lemmas."""
    return [
        read_unit(
            t,
            tuple(w for w in re.findall(r"[a-z']+", t.lower()) if w not in _STOP),
            (),
            frozenset(),
        )
        for t in texts
    ]


def _keep(previous, candidate, members, min_share):
    """keep_label, nouns measured over the members (here the night's clustered units)."""
    return keep_label(previous, candidate, members, min_share, corpus=night_corpus(members))


@pytest.mark.parametrize(
    ("previous", "candidate", "kept"),
    [
        # Half the members say it, in any wording ("repeating"): it stays.
        ("shuffle repeats songs", "app crashes", True),
        # An eighth say it; tonight's is said by half, at least twice as many: replaced.
        ("playlist shuffle", "shuffle repeats songs", False),
        # Tonight's is no clearer: the established one stays.
        ("playlist shuffle", "app crashes", True),
        ("playlist shuffle", NO_PROBLEM_LABEL, True),
        ("shuffle + repeat", "app crashes", True),
        ("shuffle (no detail given)", "app crashes", True),  # said by six of eight
        ("Playlist Shuffle", "shuffle repeats songs", False),
        ("", "app crashes", False),
        (NO_PROBLEM_LABEL, "app crashes", True),
        (NO_PROBLEM_LABEL, "shuffle repeats songs", False),
        # Labels tonight's labeller would never give are replaced, even by a weaker one.
        ("shuffle", "app crashes", False),
        ("one playlist", "app crashes", False),
    ],
)
def test_a_label_is_kept_until_a_clearly_better_one_comes(previous, candidate, kept):
    assert _keep(previous, candidate, _read(SHUFFLE), 0.25) is kept


def test_a_kept_absence_claim_is_replaced_when_few_members_deny_the_thing():
    errors = [f"Error code {n} when a song stops" for n in range(10, 19)]
    others = [f"The app logs me out on device {n}" for n in range(8)]
    members = _read([*errors, *others, "No error message, the song just stops"])

    # Nearly every member names an error, one denies one: "no errors" is said by 1 in 18.
    assert label_share("no errors", members) == pytest.approx(1 / 18)
    assert label_share("song stops", members) == pytest.approx(10 / 18)
    assert not _keep("no errors", "app logs", members, 0.75)
    assert _keep("song stops", "app logs", members, 0.75)
    # Tonight's is no phrase either ("error + code"): the old phrase stays till one comes.
    assert _keep("no errors", "error + code", members, 0.75)


def test_a_kept_label_with_not_before_a_noun_gives_way():
    texts = [f"Song {n} is greyed out on my phone" for n in range(6)]
    members = [
        read_unit(t, tuple(w for w in t.lower().split() if w not in _STOP), ("song",), frozenset())
        for t in [*texts, *(f"It's not song {n} specific, any track fails" for n in range(6))]
    ]
    # Half the members say "not song", but "song" is a noun here.
    assert label_share("not song", members) == 0.5
    assert not _keep("not song", "song is greyed", members, 0.25)
    # "not" before a word most members use outside a noun chunk reads well: it stays.
    verbs = _read(["It does not play", "Songs do not play", "Albums not playing at all"])
    assert _keep("not play", "albums + songs", verbs, 0.25)


def test_a_kept_label_that_cuts_a_relative_clause_short_gives_way():
    texts = [f"The agent I spoke to on day {n} was rude" for n in range(6)]
    members = [
        read_unit(t, tuple(w for w in t.lower().split() if w not in _STOP), ("agent",), frozenset())
        for t in texts
    ]
    assert label_share("agent i spoke", members) == 1.0
    assert not _keep("agent i spoke", "agent was rude", members, 0.25)
    assert _keep("agent was rude", "agent i spoke", members, 0.25)


@pytest.mark.parametrize(
    ("phrase", "negates"),
    [
        ("not song", True),  # "song": in a noun chunk in 98% of the units holding it
        ("songs not song", True),
        ("not print", False),  # a ticket's "print job" puts "print" in chunks 71% of the time
        ("not my phone", False),  # "not" before "my": reads "it's not my phone"
        ("no song", False),  # a noun takes "no"
        ("not playing", False),
    ],
)
def test_not_right_before_a_word_nearly_always_a_noun_is_flagged(phrase, negates):
    shares = {"song": 0.98, "songs": 0.98, "print": 0.71, "phone": 0.97, "playing": 0.1}
    assert negates_a_noun(phrase, lambda w: shares.get(w, 0.0)) is negates


def test_a_previous_phrase_under_the_floor_gives_way_only_to_one_said_more():
    members = _read([*SHUFFLE, *(f"The app crashes on launch, day {d}" for d in range(14))])
    # "playlist shuffle": 1 of 22; "downloads offline": 1 of 22, no more: the old one stays.
    assert _keep("playlist shuffle", "downloads offline", members, 0.25)
    assert not _keep("playlist shuffle", "app crashes", members, 0.25)


def test_a_kept_id_keeps_its_previous_label_and_a_new_one_takes_tonights():
    level = LevelIds(
        ids={0: "H-0001", 1: "H-0002", 2: "H-0003"},
        status={0: "active", 1: "active", 2: "new"},
        matched_from={0: "H-0001", 1: "H-0002", 2: None},
        scores={0: 1.0, 1: 1.0, 2: None},
        retired=[],
        revived=[],
        lineage=[],
        previous_labels={"H-0001": "shuffle repeats songs", "H-0002": "one playlist"},
    )
    members = _read(SHUFFLE)

    assert (
        kept_label(0, "app crashes", level, members, 0.25, night_corpus(members))
        == "shuffle repeats songs"
    )
    assert (
        kept_label(1, "app crashes", level, members, 0.25, night_corpus(members)) == "app crashes"
    )
    assert (
        kept_label(2, "app crashes", level, members, 0.25, night_corpus(members)) == "app crashes"
    )


def test_a_kept_label_is_judged_by_the_nights_noun_measure_not_its_members_alone():
    def read(text, chunks=()):
        words = tuple(w for w in text.lower().split() if w not in _STOP)
        return read_unit(text, words, chunks, frozenset())

    members = [read(f"The app does not update {n}", ("update",)) for n in range(10)]
    elsewhere = [read(f"I cannot update the app on phone {n}") for n in range(12)]
    # Among the members "update" sits in a noun chunk every time; over the night's clustered
    # units, 10 in 22: a verb, and "not update" reads as tonight's labels would.
    assert not keep_label("not update", "app crashes", members, 0.25, corpus=night_corpus(members))
    assert keep_label(
        "not update", "app crashes", members, 0.25, corpus=night_corpus(members + elsewhere)
    )


def test_a_phrase_saying_how_much_is_said_only_by_members_with_that_word():
    # The largest parent of the support tweets (2,418 units about songs) was "more songs": a
    # phrase's support was its content words, so every member naming a song said it.
    members = [read_unit(t, (), (), frozenset()) for t in PLAYBACK]
    assert label_share("more songs", members) == pytest.approx(1 / len(PLAYBACK))
    assert label_share("songs wont play", members) > label_share("more songs", members)
    assert most_held_label("more songs", ["songs wont play"], members) == "songs wont play"
    fabric = [read_unit(t, (), (), frozenset()) for t in ("way too much fabric", "so much fabric")]
    assert label_share("too much fabric", fabric) == 1.0  # one of its quantity words is enough


def test_a_phrase_denying_something_is_said_only_by_members_that_deny_it():
    # A hotel set's "not parking" (a child and two parents, "not towels", "not coffee") was
    # said by every member naming parking: "not" was a stopword, and only a phrase starting
    # with "no" needed a negation. 2 of its 71 members denied parking; most named its fee.
    parking = _read(
        [
            "the parking fee is 40 a day",
            "the parking fee was steep and the garage is tiny",
            "valet parking took an hour",
            "there was not parking anywhere near",
        ]
    )
    assert label_share("not parking", parking) == pytest.approx(1 / 4)
    assert label_share("parking fee", parking) == pytest.approx(2 / 4)
    assert most_held_label("not parking", ["parking fee"], parking) == "parking fee"
    app = _read(["the app is not working again", "app working fine now", "app never works"])
    assert label_share("app not working", app) == pytest.approx(2 / 3)
    assert label_share("can't log in", _read(["I cannot log in", "log in page is slow"])) == 0.5
    # "still" marks a problem but denies nothing: "still waiting" needs no negated word, and
    # "the app still works" says no "app not working".
    waiting = _read(["still waiting for my refund", "waiting on the refund still"])
    assert label_share("still waiting refund", waiting) == 1.0
    assert label_share("app not working", _read(["the app still works fine"])) == 0.0
    assert label_share("zero stars", _read(["zero stars from me", "five stars"])) == 0.5


def test_a_groups_label_is_no_childs_label_that_few_of_the_group_say():
    # A hotel group about small, dated rooms was "rooms ocean" (said by 6 of its 263 members,
    # under the 8% a phrase needs to be a label), because its own "small + dated" was said
    # only by the members holding both words.
    members = _read(
        [*(f"the room was small {n}" for n in range(8)), "small and dated room"]
        + ["rooms face the ocean", "ocean view rooms are dark"]
        + [f"dated decor {n}" for n in range(10)]
    )
    assert most_held_label("small + dated", ["rooms ocean"], members) == "rooms ocean"
    assert most_held_label("small + dated", ["rooms ocean"], members, min_held=3) == (
        "small + dated"
    )
    assert most_held_label("small + dated", ["dated decor"], members, min_held=3) == "dated decor"


PLAYBACK = [
    "My songs wont play since the update",
    "Downloaded songs wont play offline",
    "Songs wont play on my iphone",
    "Half my songs wont play in the car",
    "Please add more songs from this artist",
]


def test_a_label_few_members_say_gives_way_only_to_one_said_twice_as_often():
    # The demo's camera parent flipped "returned camera" (7.5% of its members) to "getting the
    # cam" (8.0%) on a night of two new days; a kept label changes only for a clearly better one.
    filler = ["The box was fine."] * 33
    close = _read(
        ["I returned the camera."] * 3 + ["Getting the cam online took ages."] * 4 + filler
    )
    clear = _read(["I returned the camera."] + ["Getting the cam online took ages."] * 4 + filler)

    assert _keep("returned camera", "getting the cam", close, 0.25)
    assert not _keep("returned camera", "getting the cam", clear, 0.25)
    # Neither said at all: the kept one stays.
    assert _keep("returned camera", "songs skip randomly", _read(filler), 0.25)


def test_a_name_whose_cue_normalisation_cut_never_reaches_the_labeller():
    # "Thanks," is cut from the unit as a greeting; the comment as written still shows the cue.
    said = "Thanks, Sarah Jones for nothing, my refund never arrived."
    unit = redacted_label_input(
        "c1:0",
        "Sarah Jones for nothing, my refund never arrived.",
        ("sarah", "jones", "refund", "arrive"),
        ("sarah jones", "my refund"),
        None,
        None,
        said,
    )
    assert unit.text == "[redacted] [redacted] for nothing, my refund never arrived."
    assert unit.lemmas == ("refund", "arrive") and unit.noun_chunks == ("my refund",)


def test_a_phone_or_email_a_cluster_repeats_is_published_redacted():
    # Every member gave the same number and address: the labeller may name the cluster by them.
    said = ClusterLabel(
        "call 020 7946 0958",
        ("refund never arrived", "mail refunds@example.com"),
        ("c1:0", "c2:0"),
        "billing",
        0.5,
        None,
        0.0,
        0.75,
    )

    published = published_labels({3: said})

    assert published[3].label == "call [phone]"
    assert published[3].keyphrases == ("refund never arrived", "mail [email]")
    assert published[3] == replace(said, label="call [phone]", keyphrases=published[3].keyphrases)


def test_a_kept_label_of_names_alone_gives_way():
    members = [
        read_unit(f"On the {day} Wells Fargo closed my account.", (), (), frozenset())
        for day in ("1st", "2nd", "3rd", "4th")
    ]
    # Last night's "wells fargo" is said by every member, but it names a company, not a
    # problem; tonight's label replaces it. A label naming the problem and the company stays.
    assert not keep_label(
        "wells fargo", "closed my account", members, 0.25, corpus=night_corpus(members)
    )
    assert keep_label(
        "wells fargo closed", "closed my account", members, 0.25, corpus=night_corpus(members)
    )


def test_labels_saying_the_same_words_are_told_apart_by_a_keyphrase():
    members = [read_unit("So Wells Fargo said my credit report is wrong.", (), (), frozenset())] * 2
    labels = {
        0: "violating my rights",
        1: "violated my rights",
        2: "my credit report",
        3: "my credit report",
        4: "checking account",
        5: NO_PROBLEM_LABEL,
        6: NO_PROBLEM_LABEL,
        7: "checking accounts",
    }
    keyphrases = {
        0: ("rights", "fcra"),
        1: ("rights", "violated", "wells fargo", "debt collector"),
        2: ("credit report", "late payments"),
        3: ("credit report", "identity theft"),
        4: ("checking", "overdraft fee"),
        5: ("thanks",),
        6: ("dm",),
        7: ("overdraft fee", "branch"),
    }
    sizes = {0: 40, 1: 90, 2: 50, 3: 80, 4: 10, 5: 5, 6: 5, 7: 4}

    previous = {0: "violating my rights", 1: "rights violated"}
    distinct = tell_apart(labels, keyphrases, sizes, previous, night_corpus(members))

    # The established one keeps its label though smaller; the other adds what it says beside
    # (no name, and nothing its label says already).
    assert distinct[0] == "violating my rights"
    assert distinct[1] == "violated my rights + debt collector"
    # Neither established: the larger keeps it.
    assert distinct[3] == "my credit report"
    assert distinct[2] == "my credit report + late payments"
    assert distinct[4] == "checking account"
    assert distinct[7] == "checking accounts + branch"  # a word reads best after a label
    assert distinct[5] == distinct[6] == NO_PROBLEM_LABEL


def test_a_told_apart_label_keeps_what_it_added_while_it_may():
    members = [read_unit("my rights were violated", (), (), frozenset())] * 2
    labels = {0: "violated my rights", 1: "violated my rights", 2: "fargo (no detail given)"}
    keyphrases = {0: ("rights",), 1: ("agent", "debt collector"), 2: ("overdraft fee",)}
    sizes = {0: 20, 1: 10, 2: 5}
    corpus = night_corpus(members)

    # Last night it added "debt collector"; tonight "agent" ranks first, and it keeps its own.
    previous = {0: "violated my rights", 1: "violated my rights + debt collector"}
    assert tell_apart(labels, keyphrases, sizes, previous, corpus)[1] == (
        "violated my rights + debt collector"
    )
    # Said before by another, it takes the next.
    taken = {**labels, 3: "violated my rights + debt collector"}
    assert tell_apart(
        taken, {**keyphrases, 3: ("x",)}, {**sizes, 3: 30}, {**previous, 3: taken[3]}, corpus
    )[1] == ("violated my rights + agent")
    # "(no detail given)" says it has nothing more to say: no keyphrase is added to it.
    twice = {**labels, 0: "fargo (no detail given)"}
    assert tell_apart(twice, keyphrases, sizes, {}, corpus)[2] == "fargo (no detail given)"


def test_a_nights_hassles_are_published_with_labels_told_apart():
    def level(ids, previous):
        return LevelIds(
            ids=ids,
            status=dict.fromkeys(ids, "active"),
            matched_from=dict(ids),
            scores=dict.fromkeys(ids, 1.0),
            retired=[],
            revived=[],
            lineage=[],
            previous_labels=previous,
        )

    def labelled(label, keyphrases):
        return ClusterLabel(label, keyphrases, (), None, 1.0, None, 1.0, 0.9)

    texts = ["checking accounts charge an overdraft fee"] * 2 + [
        "my checking account was closed"
    ] * 3
    found = TwoLevel(
        mode="full",
        reason="first",
        labels=np.array([0, 0, 1, 1, 1]),
        probabilities=np.ones(5, dtype=np.float32),
        assigned_by=np.array(["core"] * 5, dtype=object),
        n_children=2,
        parent_of_child=np.array([0, 0]),
        n_parents=1,
        min_cluster_size=2,
        fitted_on=5,
        timings={},
    )
    labels = Labels(
        children={
            0: labelled("checking accounts", ("checking", "overdraft fee")),
            1: labelled("checking account", ("checking account", "closed")),
        },
        parents={0: labelled("checking account", ("checking account",))},
        read=dict(enumerate(_read(texts))),
    )
    tracked = Tracked(
        children=level({0: "H-0001", 1: "H-0002"}, {}),
        parents=level({0: "P-0001"}, {}),
    )

    rows = [
        v.row for v in hassle_versions(np.eye(5, dtype=np.float32), found, labels, tracked, 0.25)
    ]

    # The larger child keeps the label; the smaller says what sets it apart. A parent named
    # as its child is, is another level's: it stays.
    assert {r.hassle_id: r.label for r in rows} == {
        "H-0001": "checking accounts + overdraft fee",
        "H-0002": "checking account",
        "P-0001": "checking account",
    }
    # Established last night, the smaller keeps its label and the larger says what differs.
    last_night = {"H-0001": "checking accounts"}
    tracked = replace(tracked, children=level({0: "H-0001", 1: "H-0002"}, last_night))
    rows = [
        v.row for v in hassle_versions(np.eye(5, dtype=np.float32), found, labels, tracked, 0.25)
    ]
    assert {r.hassle_id: r.label for r in rows if r.level == "child"} == {
        "H-0001": "checking accounts",
        "H-0002": "checking account + closed",
    }


def test_a_kept_label_that_swears_gives_way():
    members = _read(["this shit keeps skipping songs", "songs keep skipping, shit app"] * 3)
    assert not keep_label(
        "shit app", "songs keep skipping", members, 0.25, corpus=night_corpus(members)
    )
