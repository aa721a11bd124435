import subprocess
import sys
import threading
from importlib import metadata

import pytest

from clameur.nlp import language
from clameur.nlp.language import (
    ENRICHER_NAME,
    ENRICHER_VERSION,
    LANGUAGES,
    clean_for_language,
    detect_language,
    detect_languages,
)

FRENCH = [
    "Franchement le service client de chez vous est nul, ça fait trois jours que j'attends",
    "Merci pour la livraison rapide, le colis est arrivé en parfait état !",
    "Je ne recommande pas du tout, produit cassé dès la première utilisation",
    "c'est nul",
]
ENGLISH = [
    "Absolutely love the new update, the app is so much faster now",
    "Been on hold for 45 minutes, this is ridiculous. Fix your customer service",
    "Can anyone tell me when the store opens tomorrow?",
    "thanks a lot",
]
# As posts come from some exports (mlma-fr): lowercased, accents stripped, SMS spelling.
FRENCH_WITHOUT_ACCENTS = [
    "franchement c est pas normal de payer aussi cher pour un service aussi nul",
    "jai recu ma commande mais il manque la moitie des articles, vous abusez",
    "le livreur a laisse le colis devant la porte sous la pluie, merci pour rien",
]
NOTHING_TO_JUDGE = [
    "",
    "   ",
    "😍🔥🔥",
    "🇫🇷 🇬🇧 ❤️‍🔥",
    "@ToysRUs @CBS @NBCNews",
    "https://t.co/Z0cnOvN73u https://t.co/oHp3use4Wc",
    "@user https://t.co/abc 👍🏽",
    "123 456",
]


# -- cleaning ------------------------------------------------------------------------------------


def test_cleaning_strips_retweet_mark_mentions_urls_and_emoji_but_keeps_hashtag_words():
    text = "RT @BFMTV: #Breaking the CEO just resigned, more details soon http://bfm.tv/xyz 😱😱"
    assert clean_for_language(text) == "Breaking the CEO just resigned, more details soon"


def test_cleaning_strips_short_links_and_bare_www_addresses_and_unescapes_entities():
    text = "Fish &amp; chips 👍🏽 at www.example.com/menu and bit.ly/xyz …"
    assert clean_for_language(text) == "Fish & chips at and"


def test_cleaning_strips_the_bare_http_left_by_anonymised_exports():
    assert clean_for_language("Nager vert avec les piscines écologiques http …") == (
        "Nager vert avec les piscines écologiques"
    )


def test_cleaning_keeps_email_addresses_whole():
    assert clean_for_language("écris-moi à jean.dupont@example.fr") == (
        "écris-moi à jean.dupont@example.fr"
    )


# -- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FRENCH)
def test_french_posts_are_french(text):
    assert detect_language(text)[0] == "fr"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_posts_are_english(text):
    assert detect_language(text)[0] == "en"


@pytest.mark.parametrize("text", FRENCH_WITHOUT_ACCENTS)
def test_french_without_accents_is_still_french(text):
    assert detect_language(text)[0] == "fr"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Uncleaned, py3langid gets the first four wrong.
        ("@BritishAirways @HeathrowAirport #NeverAgain #Nightmare vol annulé, aucune info", "fr"),
        ("https://www.theguardian.com/business/live/2024/prices-soaring-again bonne analyse", "fr"),
        ("Bonne analyse https://www.theguardian.com/business/2024/jan/10/why-prices-rise", "fr"),
        ("@SNCF_Voyageurs @Le_Parisien #grève my train is late again https://sncf.com/fr", "en"),
        ("@Orange_France @Free @SFR @bouyguestelecom ma box ne marche plus depuis hier", "fr"),
    ],
)
def test_mentions_hashtags_and_urls_do_not_decide_the_language(text, expected):
    assert detect_language(text)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Without the spaces around the cleaned text py3langid says de, it, es and nl.
        ("was fun!", "en"),
        ("so cute", "en"),
        ("pas mal", "fr"),
        ("@le_debut thanks val", "en"),
    ],
)
def test_a_couple_of_words_are_read_with_their_word_boundaries(text, expected):
    assert detect_language(text)[0] == expected


@pytest.mark.parametrize("text", NOTHING_TO_JUDGE)
def test_posts_with_nothing_to_judge_have_no_language(text):
    assert detect_language(text) == (None, 0.0)


def test_answers_are_known_languages_with_a_confidence_between_0_and_1():
    results = detect_languages(FRENCH + ENGLISH + ["pas mal", "hola amigos, qué tal"])
    for lang, confidence in results:
        assert lang in LANGUAGES
        assert 0.0 < confidence <= 1.0


def test_long_clear_posts_get_a_high_confidence_and_a_couple_of_words_a_lower_one():
    long_confidence = detect_language(FRENCH[0])[1]
    short_confidence = detect_language("trop bien")[1]
    assert long_confidence > 0.99
    assert short_confidence < long_confidence


def test_batch_gives_the_same_answers_as_one_by_one():
    texts = FRENCH + ENGLISH + FRENCH_WITHOUT_ACCENTS + NOTHING_TO_JUDGE + ["trop chou merci", "ok"]
    assert detect_languages(texts) == [detect_language(text) for text in texts]


def test_empty_batch_gives_no_answers():
    assert detect_languages([]) == []


# -- the fast py3langid scorer -------------------------------------------------------------------


def test_batch_scorer_agrees_with_py3langid_itself():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(LANGUAGES))
    texts = FRENCH + ENGLISH + FRENCH_WITHOUT_ACCENTS + ["pas mal", "Qué tal?", "Ça va ?"]
    encoded = [language._encode(clean_for_language(text)) for text in texts]
    found = language._get_ngram_model().classify(encoded)
    for data, (lang, confidence) in zip(encoded, found, strict=True):
        expected_lang, expected_confidence = reference.classify(data)
        assert (lang, confidence) == (expected_lang, pytest.approx(expected_confidence, abs=1e-3))


# -- loading and versioning ----------------------------------------------------------------------


def test_importing_the_module_loads_no_model():
    code = (
        "import sys, clameur.nlp.language; "
        "print('py3langid' in sys.modules, 'lingua' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_threads_starting_together_load_the_model_once(monkeypatch):
    built = []

    class CountingModel:
        def __init__(self, languages):
            built.append(languages)
            threading.Event().wait(0.05)  # a slow load widens the race

    monkeypatch.setattr(language, "_NgramModel", CountingModel)
    monkeypatch.setattr(language, "_ngram_model", None)
    barrier = threading.Barrier(8)
    got = []

    def first_use():
        barrier.wait()
        got.append(language._get_ngram_model())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert len(got) == 8 and all(model is got[0] for model in got)


def test_enricher_version_names_the_installed_py3langid_release():
    assert ENRICHER_NAME == "language"
    release = ".".join(metadata.version("py3langid").split(".")[:2])
    assert ENRICHER_VERSION.startswith(f"py3langid-{release}+")
