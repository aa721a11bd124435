"""Terms of a post worth watching: words, #hashtags and two-word phrases, stop words left out.

Terms are counted folded (no accents, lower case), so that "année", "Annee" and "#annee" count
as one term; `written_forms` finds, in a few posts, how people write each of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from clameur.kit.text import fold, split_tokens, token_texts

_URL = re.compile(r"https?://\S+|www\.\S+")
# Handles are authors, not terms; a whole handle goes, domain included ("@x.bsky.social").
_HANDLE = re.compile(r"@[\w.\-]+")

# Folded (no accents), as kit.text.fold gives them. Elided forms (l', d', qu'...) are already
# dropped by the tokenizer.
FRENCH_STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait alors as au aucun aura aurai auraient aurais aurait aussi autre aux
    avais avait avant avec avez avoir avons ayant bon c ca car ce ceci cela celle celles celui
    ces cet cette chez ci comme comment d dans de des deja depuis donc dont du elle elles en
    encore es est et etaient etais etait ete etre eu eux fait faire fois font ici il ils j je
    juste l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on ont
    ou par pas peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa
    sans se sera ses si sinon soit son sont sous suis sur t ta te tes toi ton tous tout toute
    toutes tres tu un une vers via voila vos votre vous y rt apres bien rien trop aujourd hui
    """.split()
)
STOP_WORDS = FRENCH_STOP_WORDS | frozenset(ENGLISH_STOP_WORDS) | {"amp", "http", "https"}


def _clean(text: str) -> str:
    return _HANDLE.sub(" ", _URL.sub(" ", text))


def post_terms(text: str) -> tuple[set[str], set[str]]:
    """The distinct terms of a post: words (a #hashtag counts as its word, so that "#Ouigo"
    and "Ouigo" are one term), and phrases of two adjacent words."""
    texts, kinds = token_texts(_clean(text))
    terms: set[str] = set()
    phrases: set[str] = set()
    previous: str | None = None
    for word, kind in zip(texts, kinds, strict=True):
        if kind == "mention":
            previous = None
            continue
        if kind == "hashtag":
            terms.add(word[:100])
            previous = None
            continue
        if word in STOP_WORDS or len(word) < 3 or word.isdigit():
            previous = None
            continue
        terms.add(word[:100])
        if previous is not None:
            phrase = f"{previous} {word}"
            if len(phrase) <= 100:
                phrases.add(phrase)
        previous = word
    return terms, phrases


def term_key(term: str) -> str:
    """The key a term is counted under: a hashtag counted before hashtags were merged with
    their word ("#ouigo") counts as the word ("ouigo")."""
    return term[1:] if term.startswith("#") else term


@dataclass(frozen=True, slots=True)
class WrittenForm:
    """How a term is written most often, and the first text (by index) that holds it."""

    form: str
    first: int


def written_forms(texts: Iterable[str], keys: Collection[str]) -> dict[str, WrittenForm]:
    """For each term key (as post_terms counts them), its most common written form in `texts`:
    lower case, accents kept, "#" kept when the term is most often a hashtag. Keys that no
    text holds are left out; a tie goes to the form with accents."""
    wanted = set(keys)
    seen: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}

    def add(key: str, form: str, index: int) -> None:
        if key in wanted:
            seen.setdefault(key, Counter())[form] += 1
            first.setdefault(key, index)

    for index, text in enumerate(texts):
        lowered = unicodedata.normalize("NFC", _clean(text)).lower()
        previous: tuple[str, str] | None = None
        for written, kind in zip(*split_tokens(lowered), strict=True):
            key = fold(written)
            if kind == "mention":
                previous = None
            elif kind == "hashtag":
                add(key[:100], "#" + written, index)
                previous = None
            elif key in STOP_WORDS or len(key) < 3 or key.isdigit():
                previous = None
            else:
                add(key[:100], written, index)
                if previous is not None:
                    add(f"{previous[0]} {key}", f"{previous[1]} {written}", index)
                previous = (key, written)
    return {key: WrittenForm(_most_common(key, forms), first[key]) for key, forms in seen.items()}


def _most_common(key: str, forms: Counter[str]) -> str:
    """The most common form; on a tie, one with accents, then a word rather than a hashtag."""
    return max(forms, key=lambda form: (forms[form], form.lstrip("#") != key, form[0] != "#"))
