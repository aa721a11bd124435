import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from clameur.nlp.duplicates import (
    ENRICHER_NAME,
    ENRICHER_VERSION,
    DuplicateDetector,
    words,
)

ORIGINAL = (
    "Le nouveau téléphone de Cigalune est vraiment génial, la batterie tient deux jours "
    "et l'appareil photo est bluffant même la nuit"
)
OTHER = "Service client injoignable depuis trois jours, je demande le remboursement de ma commande"
VOCABULARY = (
    "festival scene concert billet parking navette pluie soleil musique artiste foule "
    "buvette camping bracelet file attente securite lumiere guitare batterie public "
    "retard annulation remboursement programme horaire entree sortie tente boue chaleur "
    "orage metro voiture velo train samedi dimanche vendredi soir matin nuit ami famille"
).split()


def make_text(seed: int, length: int = 16) -> str:
    """A made-up post of `length` distinct words, different for each seed."""
    rng = random.Random(seed)
    return " ".join(rng.sample(VOCABULARY, length)) + f" numero{seed}"


def replace_words(text: str, count: int, start: int = 0) -> str:
    """`text` with `count` of its words replaced by words it does not hold."""
    tokens = text.split()
    for index in range(start, start + count):
        tokens[index] = f"autre{index}mot"
    return " ".join(tokens)


def test_a_retweet_points_at_the_original() -> None:
    detector = DuplicateDetector()

    assert detector.check("1", ORIGINAL) is None
    assert detector.check("2", f"RT @fan_club: {ORIGINAL}") == "1"


def test_copy_paste_with_another_link_emoji_hashtag_mentions_and_case_is_grouped() -> None:
    detector = DuplicateDetector()
    detector.check("1", f"{ORIGINAL} https://t.co/AbCdEf123")

    copy = f"🔥🔥 @bot1 @bot2 {ORIGINAL.upper()} #Cigalune https://t.co/ZzYy9876 😍"

    assert detector.check("2", copy) == "1"


def test_a_copy_with_one_word_changed_is_grouped_but_a_different_post_is_not() -> None:
    detector = DuplicateDetector()
    detector.check("1", ORIGINAL)

    assert detector.check("2", ORIGINAL.replace("génial", "super")) == "1"
    assert detector.check("3", OTHER) is None
    assert detector.check("4", replace_words(ORIGINAL, 6)) is None


def test_the_threshold_decides_how_different_a_copy_may_be() -> None:
    text = make_text(1, 18)  # 19 words
    changed = replace_words(text, 3)  # Jaccard 16 / 22 = 0.73
    lenient = DuplicateDetector(threshold=0.7)
    strict = DuplicateDetector(threshold=0.8)
    lenient.check("1", text)
    strict.check("1", text)

    assert lenient.check("2", changed) == "1"
    assert strict.check("2", changed) is None


def test_long_posts_are_compared_on_a_sketch_of_their_words() -> None:
    article = " ".join(f"mot{n}" for n in range(300))
    copy = "Lu sur le blog : " + article.replace("mot7 ", "") + " https://t.co/abc"
    other = " ".join(f"mot{n}" for n in range(200, 500))  # a third of the words shared
    detector = DuplicateDetector()
    detector.check("article", article)

    assert detector.check("copy", copy) == "article"
    assert detector.check("other", other) is None


def test_group_size_counts_the_posts_under_an_original() -> None:
    detector = DuplicateDetector()
    detector.check("1", ORIGINAL)
    detector.check("2", OTHER)
    for n in range(3, 8):
        detector.check(str(n), f"RT @user{n}: {ORIGINAL}")

    assert detector.group_size("1") == 6
    assert detector.group_size("2") == 1
    assert detector.group_size("unknown") == 1


def test_a_duplicate_of_a_duplicate_points_at_the_first_original() -> None:
    first = make_text(2, 19)  # 20 words
    second = replace_words(first, 2)  # 18 / 22 = 0.82 with the first
    third = replace_words(second, 2, start=10)  # 0.82 with the second, 16 / 24 with the first
    detector = DuplicateDetector()

    assert detector.check("1", first) is None
    assert detector.check("2", second) == "1"
    assert detector.check("3", third) == "1"
    assert detector.group_size("1") == 3


def test_a_truncated_retweet_is_grouped_with_the_full_post() -> None:
    detector = DuplicateDetector()
    detector.check("1", ORIGINAL)
    truncated = "RT @fan_club: " + ORIGINAL[:70] + "…"  # about half the words

    assert detector.check("2", truncated) == "1"


def test_a_short_post_ending_with_an_ellipsis_is_not_a_truncated_copy() -> None:
    detector = DuplicateDetector()
    detector.check("1", ORIGINAL)

    assert detector.check("2", "Le nouveau téléphone de Cigalune…") is None


def test_short_posts_only_match_exact_copies() -> None:
    detector = DuplicateDetector()

    assert detector.check("1", "Merci !") is None
    assert detector.check("2", "@cigalune merci") == "1"
    assert detector.check("3", "merci beaucoup") is None
    assert detector.check("4", "Trop bien ce concert") is None
    assert detector.check("5", "Trop bien le concert") is None


def test_posts_without_words_are_never_grouped() -> None:
    detector = DuplicateDetector()

    assert detector.check("1", "😍😍😍") is None
    assert detector.check("2", "😍😍😍") is None
    assert detector.check("3", "https://t.co/abc") is None
    assert len(detector) == 0


def test_a_post_checked_again_gets_the_same_answer_and_is_not_counted_twice() -> None:
    first = make_text(3, 19)
    variant = replace_words(first, 2)  # 0.82: held, as a variant
    detector = DuplicateDetector()
    detector.check("1", first)
    detector.check("2", variant)
    detector.check("s", "merci")

    assert detector.check("1", first) is None
    assert detector.check("2", variant) == "1"
    assert detector.check("s", "merci") is None
    assert detector.group_size("1") == 2
    assert detector.group_size("s") == 1


def test_check_many_gives_the_answers_of_check_one_by_one() -> None:
    texts = [ORIGINAL, OTHER, "merci", "😍"] + [make_text(n) for n in range(40)]
    rng = random.Random(3)
    stream = []
    for n in range(300):
        text = rng.choice(texts)
        if rng.random() < 0.5:
            text = f"RT @u{n}: {text} https://t.co/{n}"
        stream.append((str(n), text))
    one_by_one = DuplicateDetector(capacity=30)
    batched = DuplicateDetector(capacity=30, batch_size=64)

    expected = [one_by_one.check(key, text) for key, text in stream]
    found = batched.check_many(stream)

    assert found == expected
    assert sum(root is not None for root in found) > 100  # copies were found
    assert [batched.group_size(k) for k, _ in stream] == [
        one_by_one.group_size(k) for k, _ in stream
    ]


def test_memory_stays_bounded_and_the_oldest_posts_are_forgotten() -> None:
    detector = DuplicateDetector(capacity=50)
    for n in range(400):
        detector.check(f"long{n}", make_text(n))
        detector.check(f"short{n}", f"coucou {n}")

    assert len(detector) == 50
    assert len(detector._exact) <= 50
    assert sum(1 for entry in detector._table if entry) <= 50 * (detector.bands + 1)
    # The first posts are gone: their copies start new groups; the last ones are held.
    assert detector.check("copy-first", f"RT @x: {make_text(0)}") is None
    assert detector.check("copy-last", f"RT @x: {make_text(399)}") == "long399"
    assert detector.check("copy-short", "coucou 399") == "short399"


def test_an_original_that_keeps_being_copied_outlives_older_lone_posts() -> None:
    detector = DuplicateDetector(capacity=20)
    detector.check("viral", ORIGINAL)
    found = []
    for wave in range(10):
        for n in range(15):
            detector.check(f"{wave}-{n}", make_text(100 * wave + n))
        found.append(detector.check(f"rt{wave}", f"RT @fan{wave}: {ORIGINAL}"))

    assert found == ["viral"] * 10
    assert detector.group_size("viral") == 11


def test_group_size_is_forgotten_with_the_group() -> None:
    detector = DuplicateDetector(capacity=5)
    detector.check("1", ORIGINAL)
    detector.check("2", f"RT @x: {ORIGINAL}")
    assert detector.group_size("1") == 2

    for n in range(20):
        detector.check(f"other{n}", make_text(n))

    assert detector.group_size("1") == 1
    assert len(detector._groups) == 0


def test_seed_preloads_recent_posts() -> None:
    recent = [(f"old{n}", make_text(n)) for n in range(100)]
    detector = DuplicateDetector()

    detector.seed(iter(recent))

    assert len(detector) == 100
    assert detector.check("new", f"RT @x: {make_text(42)}") == "old42"
    assert detector.check("old42", make_text(42)) is None


def test_the_same_stream_gives_the_same_groups_in_another_process() -> None:
    script = (
        "import random\n"
        "from clameur.nlp.duplicates import DuplicateDetector\n"
        "from tests.nlp.test_duplicates import make_text\n"
        "d = DuplicateDetector(capacity=40)\n"
        "rng = random.Random(5)\n"
        "texts = [make_text(n) for n in range(30)]\n"
        "out = [d.check(str(n), 'RT @a: ' + rng.choice(texts)) for n in range(200)]\n"
        "print(out)\n"
    )

    def run(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        return result.stdout

    first, second = run("1"), run("2")

    assert first == second
    assert first.count("None") < 200


def test_words_drops_what_differs_between_copies() -> None:
    tokens, truncated = words("RT @bob: .@alice Café au LAIT, c'est #génial https://t.co/x1 and/or")

    assert tokens == [b"cafe", b"au", b"lait", b"c", b"est", b"genial", b"and", b"or"]
    assert not truncated
    assert words("un texte coupé au mil…") == ([b"un", b"texte", b"coupe", b"au"], True)


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        DuplicateDetector(capacity=0)
    with pytest.raises(ValueError):
        DuplicateDetector(threshold=1.5)


def test_the_enricher_says_its_name_and_version() -> None:
    assert ENRICHER_NAME == "duplicates"
    assert ENRICHER_VERSION
