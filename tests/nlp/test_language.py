from nlp.language import detect_language


def test_ordinary_english_is_recognised_without_the_detector():
    calls = []
    guess = detect_language(
        "The app keeps logging me out every day", lambda t: calls.append(t) or []
    )
    assert (guess.code, guess.method) == ("en", "stopwords") and calls == []


def test_other_texts_go_to_the_detector():
    guess = detect_language("El reembolso todavía no ha llegado", lambda t: [("es", 0.99)])
    assert (guess.code, guess.method) == ("es", "detector")


def test_without_a_detector_unsure_texts_are_undetermined():
    assert detect_language("Guten Tag", None).code == "und"
