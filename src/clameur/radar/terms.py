"""Terms of a post worth watching: words, #hashtags and two-word phrases, stop words left out."""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from clameur.kit.text import token_texts

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


def post_terms(text: str) -> tuple[set[str], set[str]]:
    """The distinct terms of a post: words and #hashtags, and phrases of two adjacent words."""
    texts, kinds = token_texts(_HANDLE.sub(" ", _URL.sub(" ", text)))
    terms: set[str] = set()
    phrases: set[str] = set()
    previous: str | None = None
    for word, kind in zip(texts, kinds, strict=True):
        if kind == "mention":
            previous = None
            continue
        if kind == "hashtag":
            terms.add("#" + word[:99])
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
