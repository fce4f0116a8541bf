import pytest

from nlp.language import DETECTOR_LANGUAGES, detect_language


def _never(text):
    raise AssertionError(f"the detector should not be asked about {text!r}")


def test_ordinary_english_is_recognised_without_the_detector():
    guess = detect_language("The app keeps logging me out every day", _never)
    assert (guess.code, guess.method) == ("en", "stopwords")


@pytest.mark.parametrize(
    "text",
    [
        "it didn't work 😢",
        "@SpotifyCares Didn’t work!",
        "@SpotifyCares dm sent",
        "thx!! 🙏🙏",
        "@brand still broken smh https://t.co/abc123",
        "plz fix ur app",
        "lol same",
        "Done. I've sent you DM.",
        "yup, that's it 👍",
        "@SpotifyCares Well lookie here! It works! https://t.co/ojDzjmHawr",
        "wifi's down agian, sooo annoyed",
        "#fail no music all day",
    ],
)
def test_short_english_with_emoji_slang_and_typos_is_never_foreign(text):
    guess = detect_language(text, lambda t: [("af", 0.99)])
    assert guess.code in ("en", "und")


@pytest.mark.parametrize(
    "text", ["@SpotifyCares __email__", "😂😂😂", "https://t.co/x1", "Android 8.0.0"]
)
def test_texts_without_enough_words_are_undetermined(text):
    assert detect_language(text, lambda t: [("de", 0.9)]).code == "und"


def test_handles_links_and_emoji_are_stripped_before_the_detector():
    seen = []
    detect_language(
        "@brand Das funktioniert überhaupt nicht mehr 😡 https://t.co/x",
        lambda t: seen.append(t) or [("de", 0.9)],
    )
    assert seen == ["Das funktioniert überhaupt nicht mehr"]


def test_an_unsure_detector_guess_is_undetermined_not_foreign():
    guess = detect_language("Samsung Galaxy tablet Lenovo Yoga", lambda t: [("de", 0.3)])
    assert (guess.code, guess.method) == ("und", "detector-unsure")


@pytest.mark.parametrize(
    "text", ["El pedido no ha llegado todavía", "Ik heb het pakket nog niet", "Je ne sais pas"]
)
def test_other_languages_sharing_words_with_english_go_to_the_detector(text):
    assert detect_language(text, lambda t: [("xx", 0.9)]).code == "xx"


def test_without_a_detector_unsure_texts_are_undetermined():
    assert detect_language("Das Konto ist seit gestern gesperrt", None).code == "und"


@pytest.fixture(scope="module")
def lingua():
    """The detector enrich uses (flows.enrich_models.Models.language_fallback)."""
    from config import load_settings
    from flows.enrich_models import Models

    return Models(load_settings(None)).language_fallback


FOREIGN = [
    ("de", "Mein Konto ist seit gestern gesperrt und niemand antwortet."),
    ("de", "Die Lieferung ist schon wieder zu spät gekommen."),
    ("de", "Warum wurde mir der Betrag zweimal abgebucht?"),
    ("fr", "Je n'arrive plus à me connecter à mon compte depuis hier."),
    ("fr", "Le colis est arrivé abîmé et personne ne répond."),
    ("fr", "Pourquoi ma carte a-t-elle été débitée deux fois ?"),
    ("es", "El reembolso todavía no ha llegado a mi cuenta."),
    ("es", "La aplicación se cierra cada vez que la abro."),
    ("es", "Llevo una hora esperando y nadie me atiende."),
    ("nl", "De app werkt niet meer sinds de laatste update."),
    ("nl", "Mijn pakket is nog steeds niet bezorgd."),
    ("nl", "Waarom moet ik twee keer betalen voor hetzelfde abonnement?"),
]


@pytest.mark.parametrize(("code", "text"), FOREIGN)
def test_the_detector_still_catches_other_languages(lingua, code, text):
    assert detect_language(text, lingua).code == code


def test_the_detector_chooses_among_the_candidate_languages(lingua):
    codes = {code for code, _ in lingua("Das ist ein ganz normaler deutscher Satz.")}
    assert "de" in codes and codes <= set(DETECTOR_LANGUAGES)
