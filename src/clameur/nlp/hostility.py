"""Hostility of a post (insults, hate, abuse): to hide or escalate comments on brand pages.

A logistic regression per language (French, English) over the same hashed word and character
n-grams as the intent models (intent.py), trained on the MLMA hate-speech tweets of Ousidhoum et
al. (EMNLP 2019, MIT licence): any hostility label (offensive, abusive, hateful, disrespectful,
fearful) against `normal` alone, the authors' binary convention. MLMA holds only tweets found
with hate keywords, so ordinary tweets (sentiment data sets) are added as not hostile, with
enough weight that a post is hostile only on positive evidence, and the threshold is chosen
for at most 1% false alarms on held-out ordinary tweets (hostility_train.py). Emoji are left
out of what the model reads: its training tweets have almost none, so whatever weight they got
was noise (it made "😍😍" a sign of hostility). Posts in another language, or of unknown
language, get the higher of the two probabilities. An explicit insult or slur (a bilingual list
below) is hostile in any case. Numpy only at run time; model files in nlp/models
(hostility-*.npz + hostility.json), loaded once, lazily.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clameur.nlp.intent import (
    MODEL_DIR,
    Features,
    LinearTextModel,
    canonical_text,
    featurize_canonical,
    load_once,
    text_key,
)

ENRICHER_NAME = "hostility"
# Model files and featurizer revision; change it whenever either changes.
ENRICHER_VERSION = "hostility-2+mlma-fr-en-ngram-lr+ordinary-posts-1pct+no-emoji+insult-rule-1"
LANGUAGES = ("fr", "en")
META_FILE = "hostility.json"
# NLTK's English stop words: the authors removed them from the English tweets, so the English
# model reads posts without them too (with them, "has stop words" would mean "not hostile").
EN_STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them their
    theirs themselves what which who whom this that that'll these those am is are was were be
    been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why
    how all any both each few more most other some such no nor not only own same so than too
    very s t can will just don don't should should've now d ll m o re ve y ain aren aren't
    couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma
    mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren
    weren't won won't wouldn wouldn't""".split()
)
STOP_WORDS: dict[str, frozenset[str] | None] = {"fr": None, "en": EN_STOP_WORDS}


# Explicit insults and slurs aimed at someone, French and English, folded as canonical_text
# folds them. MLMA's English tweets are mostly slurs about groups: a model learnt on them alone
# misses everyday insults ("shut up you stupid bitch" scored 0.31), so these count as hostile
# whatever the model says (bench/results/hostility.md measures both).
_INSULT_WORDS = {
    "en": frozenset(
        """
        idiot idiots moron morons moronic imbecile imbeciles cretin cretins retard retards
        retarded dumbass dumbfuck bitch bitches asshole assholes cunt cunts twat twats wanker
        wankers dickhead dickheads scumbag scumbags scum loser losers jackass bastard bastards
        stfu kys whore whores slut sluts faggot faggots fag fags nigger niggers spic spics kike
        kikes chink chinks
        """.split()
    ),
    "fr": frozenset(
        """
        con connard connards connasse connasses conne abruti abrutis debile debiles cretin
        cretins imbecile imbeciles encule encules enculer salope salopes pute putes fdp batard
        batards ntm bouffon bouffons tocard tocards pede pedes tapette tapettes negre negres
        bougnoule bougnoules youpin youpins mongol mongols attarde attardes gogol gogols guignol
        guignols
        """.split()
    ),
}
_INSULT_PHRASES = {
    "en": re.compile(
        r"(?<!\S)(?:dumb (?:ass|fuck|bitch)|ass holes?|"
        r"stupid (?:bitch|cunt|idiot|fuck|ass|moron|loser|pig|cow|twat|clown)|"
        r"fuck (?:you|off|u|yourself)|shut the fuck up|shut up (?:you|u|bitch|idiot)|"
        r"kill yourself|go die|die in a fire|piece of shit)(?!\S)"
    ),
    "fr": re.compile(
        r"(?<!\S)(?:ta gueule|fils de pute|nique (?:ta|ton|sa|vos|tes)|"
        r"va te faire (?:foutre|enculer|voir)|"
        r"sale (?:con|conne|arabe|noir|juif|pede|chien|race|merde|pute|negre)|"
        r"bande (?:d' |de )(?:incapables|voleurs|escrocs|abrutis|cons|guignols|bouffons))(?!\S)"
    ),
}
RULE_SCORE = 0.9  # the probability given to a post whose insult the rule found
# The emoji tokens of canonical_text (one character each).
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")


def without_emoji(canon: str) -> str:
    """A canonical text without its emoji tokens, as the models read it."""
    if not _EMOJI.search(canon):
        return canon
    return " ".join(_EMOJI.sub("", canon).split())


def featurize_for(lang: str, texts: list[str]) -> Features:
    """The features that the model of `lang` reads."""
    return featurize_canonical(
        [without_emoji(canonical_text(text)) for text in texts], STOP_WORDS[lang]
    )


def insult_found(canons: list[str], langs: Sequence[str | None]) -> np.ndarray:
    """Whether each canonical text holds an explicit insult or slur of its language (of both
    languages when it is neither French nor English)."""
    found = np.zeros(len(canons), dtype=bool)
    for row, (canon, lang) in enumerate(zip(canons, langs, strict=True)):
        words = canon.split()
        for each in (lang,) if lang in LANGUAGES else LANGUAGES:
            if not _INSULT_WORDS[each].isdisjoint(words) or _INSULT_PHRASES[each].search(canon):
                found[row] = True
                break
    return found


def model_file(lang: str) -> str:
    """File name of the model for `lang`."""
    return f"hostility-{lang}.npz"


@dataclass
class _HostilityModels:
    by_language: dict[str, LinearTextModel]
    corrections: dict[int, bool]
    meta: dict[str, Any]


_models: dict[Path, _HostilityModels] = {}
_load_lock = threading.Lock()


def _build_models(folder: Path) -> _HostilityModels:
    meta = json.loads((folder / META_FILE).read_text("utf-8"))
    return _HostilityModels(
        {lang: LinearTextModel.load(folder / model_file(lang)) for lang in LANGUAGES},
        {int(k): bool(v) for k, v in meta.get("corrections", {}).items()},
        meta,
    )


def load_models(model_dir: Path | None = None) -> _HostilityModels:
    """The hostility models of `model_dir` (default: the shipped ones), loaded once."""
    return load_once(_models, _load_lock, (model_dir or MODEL_DIR).resolve(), _build_models)


def forget_models() -> None:
    """Drop loaded models (after retraining in this process)."""
    with _load_lock:
        _models.clear()


def predict_hostility(
    texts: list[str], langs: list[str | None], model_dir: Path | None = None
) -> list[tuple[bool, float]]:
    """(hostile?, probability) for each post: insults, hate, abuse, in French or English."""
    if len(texts) != len(langs):
        raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
    if not texts:
        return []
    models = load_models(model_dir)
    canons = [canonical_text(text) for text in texts]
    read = [without_emoji(canon) for canon in canons]
    n = len(texts)
    proba = np.full(n, -1.0)
    hostile = np.zeros(n, dtype=bool)
    for lang, model in models.by_language.items():
        # A post in French or English meets its own model; any other post meets both and is
        # hostile if either says so.
        rows = np.array([i for i, x in enumerate(langs) if x == lang or x not in LANGUAGES])
        if not len(rows):
            continue
        features = featurize_canonical([read[i] for i in rows], STOP_WORDS[lang])
        p = 1.0 / (1.0 + np.exp(-model.decision(features)))
        proba[rows] = np.maximum(proba[rows], p)
        hostile[rows] |= p >= model.threshold
    insults = insult_found(canons, langs)
    hostile |= insults
    proba[insults] = np.maximum(proba[insults], RULE_SCORE)
    if models.corrections:
        for row, canon in enumerate(canons):
            label = models.corrections.get(text_key(canon))
            if label is not None:
                hostile[row], proba[row] = label, float(label)
    return [(bool(h), round(p, 4)) for h, p in zip(hostile.tolist(), proba.tolist(), strict=True)]


def train_hostility(
    data_dir: Path,
    out_dir: Path = MODEL_DIR,
    corrections: list[tuple[str, str | None, bool]] | None = None,
) -> dict[str, Any]:
    """Train the French and English models on MLMA and ordinary tweets (plus user corrections)
    and write them."""
    from clameur.nlp.hostility_train import train

    report = train(Path(data_dir), Path(out_dir), corrections)
    forget_models()
    return report


def evaluate_hostility(data_dir: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Held-out MLMA macro-F1 per language of the recipe and of a linear baseline, and false
    alarms on held-out ordinary tweets."""
    from clameur.nlp.hostility_train import evaluate

    return evaluate(Path(data_dir), model_dir)
