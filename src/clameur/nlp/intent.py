"""What a post is for: complaint, question, praise, purchase intent, spam (several may hold).

Complaint is learned: a logistic regression over hashed word and character n-grams plus a few
bilingual cue counts, trained on the complaints data set of Preotiuc-Pietro et al. (English,
ACL 2019; see intent_train.py and bench/results/intent.md). French and other non-English posts are
scored by a second model trained on the same data with the cue counts alone: each cue (negation,
waiting, a problem, a bad word, ...) fires on French and English words alike, so its weight
carries over to French. The other four intents have no labelled training data: they come from
transparent French/English patterns, and from corrections that users made (exact posts).

The text features live here because hostility.py scores the same features: numpy only, no
scikit-learn at run time, models are numpy .npz files plus a JSON file, loaded once, lazily.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from clameur.kit.text import fold

ENRICHER_NAME = "intent"
# Featurizer, cue lexicon, rules and model files: change it whenever any of them changes.
ENRICHER_VERSION = "intent-1+ngram-cue-lr-complaints+rules-1"
INTENTS = ("complaint", "question", "praise", "purchase_intent", "spam")

MODEL_DIR = Path(__file__).resolve().parent / "models"
COMPLAINT_FILE = "intent-complaint.npz"  # English: n-grams + cues
COMPLAINT_CUES_FILE = "intent-complaint-cues.npz"  # any language: cues only
INTENT_META_FILE = "intent.json"

# --- canonical text ------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|https?\b|www\.\S+")
_HANDLE = re.compile(r"(?<![\w@])@(\w+)")
# Handles of customer-care accounts (@XboxSupport, @SNCF_Client): that a post is addressed to
# one says something; which brand it is says nothing about a new brand.
_CARE = re.compile(r"help|support|care|service|assist|team|cs$|sav|client|conseil")
_TOKEN = re.compile(
    r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'(?=\w)"  # French elision: its own token
    r"|[@#]?\w+(?:'\w+)*"
    r"|[?!]"
    "|[\U0001f000-\U0001faff\u2600-\u27bf]"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"})


def _handle(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in ("url", "user"):
        return match.group(0)
    return "@care" if _CARE.search(name) else "@user"


def canonical_text(text: str) -> str:
    """Folded tokens joined by single spaces (URL -> @url, handle -> @user or @care).

    Lower case and no accents, as in the MLMA hate-speech data (the authors stripped French
    accents), so one form serves every model.
    """
    if "&" in text:
        text = html.unescape(text)
    text = fold(text.translate(_APOSTROPHES))
    if "http" in text or "www." in text:
        text = _URL.sub(" @url ", text)
    if "@" in text:
        text = _HANDLE.sub(_handle, text)
    return " ".join(_TOKEN.findall(text))


# --- hashed n-grams ------------------------------------------------------------------------


def _splitmix64(seed: int, count: int) -> np.ndarray:
    """`count` pseudo-random 64-bit words, the same on every machine and numpy version."""
    with np.errstate(over="ignore"):
        z = (np.arange(1, count + 1, dtype=np.uint64) + np.uint64(seed)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


CHAR_MIN, CHAR_MAX = 2, 5
_WORD_SPAN = 24
# Tabulation hashing: an n-gram's hash is the sum of one random word per (position, byte), so a
# whole batch is hashed with a few vectorised additions.
_CHAR_TABLE = _splitmix64(1, CHAR_MAX * 256).reshape(CHAR_MAX, 256)
_WORD_TABLE = _splitmix64(2, _WORD_SPAN * 256).reshape(_WORD_SPAN, 256)
_SALTS = _splitmix64(3, 16)
_BIGRAM = np.uint64(0x9E3779B97F4A7C15)
_SPACE, _NEWLINE = 32, 10
WORDS, CHARS = 0, 1  # feature blocks, each normalised on its own (as two tf-idf vectorisers)


@dataclass
class Features:
    """Features of a batch: hashed n-gram occurrences, and cue counts per text."""

    n_texts: int
    rows: np.ndarray  # int64, the text of each occurrence
    blocks: np.ndarray  # int8, WORDS or CHARS
    hashes: np.ndarray  # uint64
    cues: np.ndarray  # float32 (n_texts, len(CUE_FEATURES)): log(1 + count)
    canons: list[str] = field(default_factory=list)

    def buckets(self, bits: int) -> np.ndarray:
        """The bucket of each occurrence in a table of 2**bits weights."""
        return (self.hashes >> np.uint64(64 - bits)).astype(np.int64)


def hash_ngrams(canons: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word uni- and bigrams and within-word character 2..5-grams of canonical texts, hashed.

    Returns (text row, block, 64-bit hash) of every occurrence. Character n-grams are taken
    inside " word " as scikit-learn's char_wb does.
    """
    joined = ("\n " + " \n ".join(canons) + " \n").encode("utf-8", "surrogatepass")
    buffer = np.frombuffer(joined, dtype=np.uint8)
    size = len(buffer)
    is_newline = buffer == _NEWLINE
    row_of = np.cumsum(is_newline) - 1
    is_space = (buffer == _SPACE) | is_newline
    newlines_before = np.concatenate(([0], np.cumsum(is_newline, dtype=np.int32)))
    spaces_before = np.concatenate(([0], np.cumsum(is_space, dtype=np.int32)))
    rows: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    hashes: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        acc = np.zeros(size, dtype=np.uint64)
        for n in range(1, CHAR_MAX + 1):
            last = size - n + 1
            acc = acc[:last] + _CHAR_TABLE[n - 1][buffer[n - 1 : n - 1 + last]]
            if n < CHAR_MIN:
                continue
            ok = newlines_before[n : n + last] == newlines_before[:last]
            if n >= 3:  # no space inside: the n-gram stays within one padded word
                ok &= spaces_before[n - 1 : n - 1 + last] == spaces_before[1 : 1 + last]
            pick = np.flatnonzero(ok)
            rows.append(row_of[pick])
            blocks.append(np.full(len(pick), CHARS, dtype=np.int8))
            hashes.append(acc[pick] ^ _SALTS[n])
        is_char = ~is_space
        starts = np.flatnonzero(is_char[1:] & is_space[:-1]) + 1
        if len(starts):
            ends = np.flatnonzero(is_char[:-1] & is_space[1:])
            lengths = ends - starts + 1
            chars = np.flatnonzero(is_char)
            first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            offset = np.arange(len(chars)) - np.repeat(first, lengths)
            np.minimum(offset, _WORD_SPAN - 1, out=offset)
            word = np.add.reduceat(_WORD_TABLE[offset, buffer[chars]], first)
            word_row = row_of[starts]
            same = np.flatnonzero(word_row[1:] == word_row[:-1])
            rows += [word_row, word_row[same]]
            blocks += [np.full(len(word) + len(same), WORDS, dtype=np.int8)]
            hashes += [word ^ _SALTS[8], word[same] * _BIGRAM + (word[same + 1] ^ _SALTS[9])]
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.uint64)
    return np.concatenate(rows), np.concatenate(blocks), np.concatenate(hashes)


# --- cues ----------------------------------------------------------------------------------


def _words(*alternatives: str) -> str:
    """A regex matching any of `alternatives` as whole tokens of a canonical text."""
    return r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)"


# Cues written once for French and English (folded: no accents), as tokens of the canonical
# text ("j' adore" is two tokens). Each name is one feature whatever the language, which is what
# lets the cue model judge French posts.
CUES: dict[str, str] = {
    "negation": """
        no not never nothing nobody none cannot cant dont doesnt didnt wont isnt wasnt havent
        hasnt aint ne n' pas jamais rien aucun aucune sans""",
    "still_waiting": """
        still yet waiting waited wait again since hour hours day days week weeks month months
        already anymore toujours encore attends attendre attente attendu depuis heure heures
        jour jours semaine semaines mois deja relance relancer""",
    "problem": """
        broken broke problem problems issue issues error errors fail failed failing crash
        crashed crashes bug bugs buggy stuck missing lost damaged wrong late delay delayed
        canceled cancelled refund charged overcharged stopped down outage faulty defective
        leaking casse cassee probleme problemes souci soucis erreur erreurs panne pannes plante
        bloque bloquee manquant manquante perdu perdue abime abimee endommage retard retards
        annule annulee remboursement rembourser rembourse debite preleve defectueux coupure
        coupe|marche pas|fonctionne pas""",
    "bad": """
        worst terrible awful horrible horrendous ridiculous unacceptable disappointed
        disappointing poor rubbish useless joke pathetic disgusting disgraceful shocking
        appalling frustrated frustrating annoyed annoying angry furious shame suck sucks crap bs
        wtf seriously really nul nulle nuls pire honteux honte scandale scandaleux inadmissible
        inacceptable lamentable decu decue decevant marre catastrophe catastrophique pitoyable
        arnaque voleur voleurs serieusement franchement abuse abusez
        |fed up|sick of|ras le bol|n' importe quoi""",
    "service": """
        support help helpline phone call called calling email emailed response respond reply
        replied answer contact contacted agent manager complaint complain sav aide telephone
        appel appele mail reponse repondre repond contacter conseiller reclamation
        |customer service|customer care|service client""",
    "transaction": """
        order ordered delivery delivered package parcel account bill billing payment paid pay
        subscription ticket flight train commande livraison livre colis compte facture paiement
        paye abonnement billet vol""",
    "praise": """
        thank thanks thx ty love loved loving great amazing awesome excellent perfect best happy
        brilliant wonderful fantastic impressed impressive kudos lovely appreciate merci adore
        genial geniale super parfait parfaite top bravo content contente ravi ravie magnifique
        incroyable felicitations excellente extra|thank you|well done|j' adore""",
    "why": "why pourquoi|how come|comment se fait",
    "first_person": """
        i i'm im i've ive me my mine we our us je j' moi mon ma mes nous notre nos on""",
    "second_person": "you your you're youre u ur vous votre vos tu ton ta tes toi",
    "question_mark": "?",
    "exclamation": "!",
    "url": "@url",
    "care_handle": "@care",
    "emoji_angry": "\U0001f620 \U0001f621 \U0001f624 \U0001f92c \U0001f612 \U0001f644 "
    "\U0001f611 \U0001f62d \U0001f629 \U0001f62b \U0001f44e",
    "emoji_happy": "\U0001f60a \U0001f60d \U0001f970 \U0001f600 \U0001f601 \U0001f603 "
    "\U0001f604 \U0001f642 \u2764 \U0001f44d \U0001f64f \U0001f389 \U0001f44f",
}
CUE_FEATURES = (*CUES, "starts_with_handle", "length")


def _cue_tables() -> tuple[dict[str, tuple[int, ...]], list[tuple[str, int]]]:
    # One token -> the cues it counts for; phrases of several tokens are looked up as text.
    by_token: dict[str, list[int]] = {}
    phrases: list[tuple[str, int]] = []
    for index, spec in enumerate(CUES.values()):
        tokens, *more = spec.split("|")
        for token in tokens.split():
            by_token.setdefault(token, []).append(index)
        phrases += [(f" {phrase.strip()} ", index) for phrase in more]
    return {k: tuple(v) for k, v in by_token.items()}, phrases


_CUE_TOKENS, _CUE_PHRASES = _cue_tables()


def cue_counts(canons: Sequence[str]) -> np.ndarray:
    """log(1 + count) of each cue in each canonical text, then two shape features."""
    counts = np.zeros((len(canons), len(CUE_FEATURES)), dtype=np.float32)
    lookup = _CUE_TOKENS.get
    negation = 0  # the cue every "n't" word counts for
    for row, canon in enumerate(canons):
        line = counts[row]
        for token in canon.split():
            found = lookup(token)
            if found is not None:
                for index in found:
                    line[index] += 1
            elif token.endswith("n't"):
                line[negation] += 1
        padded = f" {canon} "
        for phrase, index in _CUE_PHRASES:
            if phrase in padded:
                line[index] += 1
        line[-2] = canon.startswith(("@user", "@care"))
        line[-1] = min(len(canon), 280) / 140
    counts[:, :-2] = np.log1p(counts[:, :-2])
    return counts


def featurize(texts: Sequence[str], stop_words: frozenset[str] | None = None) -> Features:
    """Every feature the intent and hostility models read, for a batch of raw texts."""
    return featurize_canonical([canonical_text(text) for text in texts], stop_words)


def featurize_canonical(
    canons: Sequence[str], stop_words: frozenset[str] | None = None
) -> Features:
    """featurize() for texts already in canonical form.

    `stop_words` are removed first (hostility's English model was trained on tweets from
    which their authors had removed them).
    """
    if stop_words:
        canons = [" ".join(w for w in canon.split() if w not in stop_words) for canon in canons]
    else:
        canons = list(canons)
    rows, blocks, hashes = hash_ngrams(canons)
    return Features(len(canons), rows, blocks, hashes, cue_counts(canons), canons)


# --- linear models -------------------------------------------------------------------------


@dataclass
class LinearTextModel:
    """Logistic regression over tf-idf weighted hashed n-grams (each block L2-normalised) and
    standardised cue counts. `idf` is 0 for buckets never seen in training, which therefore
    count for nothing, as words outside a vectoriser's vocabulary."""

    bits: int
    idf: np.ndarray  # float32 (2**bits,), or empty for a cue-only model
    weights: np.ndarray  # float32 (2**bits,), n-gram weights, or empty
    cue_mean: np.ndarray  # float32 (len(CUE_FEATURES),)
    cue_scale: np.ndarray  # float32: multiplies (cue - mean)
    cue_weights: np.ndarray  # float32
    bias: float
    threshold: float
    overrides: dict[int, bool] = field(default_factory=dict)  # text hash -> corrected label

    @property
    def uses_ngrams(self) -> bool:
        return bool(len(self.weights))

    def decision(self, features: Features, rows: np.ndarray | None = None) -> np.ndarray:
        """Logit of each text (or of the texts at `rows`)."""
        n = features.n_texts
        cues = features.cues
        # Elementwise and summed rather than a matrix product: BLAS threads fight over a busy
        # core for no gain at this size.
        logit = ((cues - self.cue_mean) * (self.cue_scale * self.cue_weights)).sum(
            axis=1
        ) + self.bias
        if self.uses_ngrams and len(features.rows):
            buckets = features.buckets(self.bits)
            idf = self.idf[buckets]
            keys = features.rows * 2 + features.blocks
            top = np.bincount(keys, weights=idf * self.weights[buckets], minlength=2 * n)
            norm = np.sqrt(np.bincount(keys, weights=idf * idf, minlength=2 * n))
            np.divide(top, norm, out=top, where=norm > 0)
            logit = logit + top.reshape(n, 2).sum(axis=1)
        return logit if rows is None else logit[rows]

    def probabilities(self, features: Features) -> np.ndarray:
        """Probability of the positive class for each text, corrections applied."""
        proba = 1.0 / (1.0 + np.exp(-self.decision(features)))
        if self.overrides:
            for row, canon in enumerate(features.canons):
                label = self.overrides.get(text_key(canon))
                if label is not None:
                    proba[row] = 1.0 if label else 0.0
        return proba

    def save(self, path: Path) -> None:
        """Write the model as a compressed .npz (no pickles)."""
        keys = np.array(sorted(self.overrides), dtype=np.uint64)
        np.savez_compressed(
            path,
            bits=np.array(self.bits),
            idf=self.idf.astype(np.float16),
            weights=self.weights.astype(np.float16),
            cue_mean=self.cue_mean,
            cue_scale=self.cue_scale,
            cue_weights=self.cue_weights,
            bias=np.array(self.bias),
            threshold=np.array(self.threshold),
            override_keys=keys,
            override_labels=np.array([self.overrides[int(k)] for k in keys], dtype=bool),
            cue_features=np.array(CUE_FEATURES),
        )

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written by save(); refuses one made with other cue features."""
        with np.load(path, allow_pickle=False) as data:
            if tuple(data["cue_features"].tolist()) != CUE_FEATURES:
                raise ValueError(f"{path.name} was trained with other cue features: retrain it")
            return cls(
                bits=int(data["bits"]),
                idf=data["idf"].astype(np.float32),
                weights=data["weights"].astype(np.float32),
                cue_mean=data["cue_mean"].astype(np.float32),
                cue_scale=data["cue_scale"].astype(np.float32),
                cue_weights=data["cue_weights"].astype(np.float32),
                bias=float(data["bias"]),
                threshold=float(data["threshold"]),
                overrides={
                    int(k): bool(v)
                    for k, v in zip(
                        data["override_keys"].tolist(),
                        data["override_labels"].tolist(),
                        strict=True,
                    )
                },
            )


def text_key(canon: str) -> int:
    """A stable 64-bit key of a canonical text (corrections are looked up by it)."""
    digest = hashlib.blake2b(canon.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# --- rules for the intents without training data ------------------------------------------


def _any(spec: str, extra: str = "") -> re.Pattern[str]:
    """Whole-token regex of the alternatives in `spec`, one per line, then `extra` as is."""
    alternatives = [line.strip() for line in spec.splitlines() if line.strip()]
    return re.compile(_words(*alternatives) + (f"|{extra}" if extra else ""))


_QUESTION_START = re.compile(
    r"^(?:@\w+ )*(?:"
    r"who|what|when|where|why|how|which|whats|can|could|do|does|did|is|are|was|were|will|would|"
    r"should|shall|may|have|has|any ?one|anybody|is there|"
    r"est ce que|est ce qu'|qui|quoi|quand|pourquoi|comment|quel|quelle|quels|quelles|combien|"
    r"ou est|ou sont|ou puis|ou peut|ou trouver|savez vous|sais tu|quelqu' un|qqn|y a t il"
    r")(?!\S)"
)
_QUESTION_ANYWHERE = _any(
    r"""
    any idea
    anyone know
    does anyone
    can (?:you|someone|anyone) (?:tell|help|explain)
    do you know
    how (?:do|can|should) i
    how to
    est ce que
    est ce qu'
    (?:savez|pouvez|pourriez) vous
    (?:sais|peux) tu
    comment (?:faire|je peux|on fait)
    (?:quelqu' un|qqn) sait
    c' est (?:quoi|combien|ou|quand)
    ca coute combien
    """
)
_PRAISE = _any(
    r"""
    thanks? (?:so much|a lot|again|for (?!nothing)\w+)
    thank you(?! for nothing)
    (?:i )?love (?:it|this|you|the|my|your|how)
    loved
    great (?:job|service|work)
    good job
    amazing
    awesome
    excellent
    brilliant
    wonderful
    fantastic
    impressed
    kudos
    well done
    highly recommend
    best (?:service|customer|app|ever)
    5 stars
    perfect
    merci (?:beaucoup|bcp|encore|infiniment|pour (?!rien)\w+|a (?:vous|toi|toute))
    j' adore
    geniale?
    bravo
    parfaite?
    au top
    ravie?
    tres contente?
    trop bien
    felicitations
    je recommande
    (?:service )?impeccable
    super (?:service|boulot|equipe)
    excellente
    magnifique
    chapeau
    """
)
_PRAISE_EMOJI = re.compile("[\U0001f60d\U0001f970\u2764\U0001f44f\U0001f64f\U0001f929]")
_NEGATED_PRAISE = _any(
    r"""
    not (?:so |that |very )?(?:great|amazing|perfect|impressed|happy)
    pas (?:si |tres )?(?:genial|parfait|top|ravi|content)
    thanks for nothing
    thanks in advance
    merci pour rien
    merci (?:d'|par) avance
    """
)
_PURCHASE = _any(
    r"""
    (?:want|wanna|going|plan|planning|need|looking|trying|dying|ready) to (?:buy|order|purchase)
    wanna buy
    where (?:can|do|could|should) i (?:buy|get|order|purchase|find)
    how much (?:is|are|does|do|for|would)
    what(?:'s| is) the price
    pre ?order
    do you (?:ship|deliver|sell)
    is (?:it|this) available
    (?:shut up and )?take my money
    add to cart
    (?:je|j') (?:veux|voudrais|aimerais|vais|compte) (?:acheter|commander|reserver|m' abonner)
    (?:je|j') (?:souhaite|souhaiterais) (?:acheter|commander|reserver|m' abonner)
    (?:ou|comment) (?:peut on|puis je) (?:acheter|commander|trouver)
    ou acheter
    combien (?:coute|ca coute|pour|coutent)
    quel (?:est le )?prix
    precommander?
    (?:livrez|vendez) vous
    """
)
# Words that mean buying only in a question ("c'est quoi le tarif", "price?").
_PURCHASE_IF_ASKED = _any(
    r"""
    prices?
    pricing
    costs?
    (?:in|back in|en) stock
    available
    availability
    prix
    tarifs?
    dispo
    disponibles?
    """
)
_MONEY = _any(
    r"""
    win
    won
    winner
    free
    cash
    earn
    earning
    profits?
    income
    bitcoin
    btc
    crypto
    eth
    nfts?
    forex
    invest
    investment
    trading
    giveaway
    airdrop
    promo
    discount
    \d+ ?% off
    gagne[rz]
    gratuit
    gratuitement
    argent
    gains
    cadeau
    concours
    remise
    bon plan
    casino
    loans?
    """,
    extra=r"[$€£]\d|\d[$€£]",
)
_SPAM = _any(
    r"""
    dm (?:me )?(?:for|to)
    dm me
    check (?:my|out my) (?:bio|profile|page)
    link in (?:my )?bio
    follow (?:me|back|for follow|4 follow)
    follow ?back
    f4f
    l4l
    followers
    click (?:here|the link)
    use (?:my )?code
    limited (?:time )?offer
    act now
    whatsapp
    telegram
    onlyfans
    lien (?:dans|en) (?:ma )?bio
    suivez moi
    abonnez vous
    cliquez? (?:ici|sur)
    code promo
    offre limitee
    contactez moi en (?:dm|mp|prive)
    en mp
    (?:retweet|rt) to win
    rt pour gagner
    tag (?:\d|three) friends
    """
)
_HASHTAG = re.compile(r"(?<!\S)#\w+")


def rule_intents(canon: str) -> tuple[bool, bool, bool, bool]:
    """(question, praise, purchase intent, spam) from the patterns, for one canonical text."""
    question = "?" in canon or bool(
        _QUESTION_START.search(canon) or _QUESTION_ANYWHERE.search(canon)
    )
    praise = bool(_PRAISE.search(canon) or _PRAISE_EMOJI.search(canon)) and not (
        _NEGATED_PRAISE.search(canon)
    )
    purchase = bool(_PURCHASE.search(canon)) or (
        question and bool(_PURCHASE_IF_ASKED.search(canon))
    )
    # Points: a spam phrase 2, a money word 1 (2 at most), a link 1, a wall of hashtags 1 or 2.
    spam_cues = len(_SPAM.findall(canon)) * 2 + min(len(_MONEY.findall(canon)), 2)
    if "@url" in canon:
        spam_cues += 1
    hashtags = len(_HASHTAG.findall(canon)) if "#" in canon else 0
    spam_cues += (hashtags >= 5) + (hashtags >= 8)
    spam = spam_cues >= 3
    return question, praise, purchase, spam


# --- loading and the public functions -----------------------------------------------------


@dataclass
class _IntentModels:
    complaint: LinearTextModel
    complaint_cues: LinearTextModel
    overrides: dict[int, tuple[str, ...]]  # text hash -> intents, from corrections
    meta: dict[str, Any]


T = TypeVar("T")

_models: dict[Path, _IntentModels] = {}
_load_lock = threading.Lock()


def load_once(
    cache: dict[Path, T], lock: threading.Lock, folder: Path, build: Callable[[Path], T]
) -> T:
    """`build(folder)` the first time a folder is asked for, then the same object (thread-safe)."""
    models = cache.get(folder)
    if models is None:
        with lock:
            models = cache.get(folder)
            if models is None:
                models = cache[folder] = build(folder)
    return models


def _build_models(folder: Path) -> _IntentModels:
    meta = json.loads((folder / INTENT_META_FILE).read_text("utf-8"))
    return _IntentModels(
        LinearTextModel.load(folder / COMPLAINT_FILE),
        LinearTextModel.load(folder / COMPLAINT_CUES_FILE),
        {int(k): tuple(v) for k, v in meta.get("corrections", {}).items()},
        meta,
    )


def load_models(model_dir: Path | None = None) -> _IntentModels:
    """The intent models of `model_dir` (default: the shipped ones), loaded once."""
    return load_once(_models, _load_lock, (model_dir or MODEL_DIR).resolve(), _build_models)


def forget_models() -> None:
    """Drop loaded models (after retraining in this process)."""
    with _load_lock:
        _models.clear()


def _complaint_probabilities(
    features: Features, langs: Sequence[str | None], models: _IntentModels
) -> np.ndarray:
    # English (or unknown) posts: the n-gram model; others: the cue model, whose cues are
    # bilingual. Each model is run only on the rows it judges.
    english = np.array([lang in (None, "en") for lang in langs], dtype=bool)
    proba = np.empty(features.n_texts)
    for model, mask in ((models.complaint, english), (models.complaint_cues, ~english)):
        if mask.any():
            proba[mask] = model.probabilities(features)[mask]
    return proba


def _check(texts: Sequence[str], langs: Sequence[str | None]) -> None:
    if len(texts) != len(langs):
        raise ValueError(f"{len(texts)} texts but {len(langs)} languages")


def complaint_scores(
    texts: list[str], langs: list[str | None], model_dir: Path | None = None
) -> list[float]:
    """Probability that each post is a complaint (a breach of expectations), in [0, 1]."""
    _check(texts, langs)
    if not texts:
        return []
    models = load_models(model_dir)
    proba = _complaint_probabilities(featurize(texts), langs, models)
    return [round(p, 4) for p in proba.tolist()]


def predict_intents_from_features(
    features: Features, langs: Sequence[str | None], model_dir: Path | None = None
) -> list[list[str]]:
    """predict_intents for already computed features (hostility shares them)."""
    models = load_models(model_dir)
    proba = _complaint_probabilities(features, langs, models)
    english = [lang in (None, "en") for lang in langs]
    thresholds = (models.complaint.threshold, models.complaint_cues.threshold)
    out: list[list[str]] = []
    for row, canon in enumerate(features.canons):
        corrected = models.overrides.get(text_key(canon)) if models.overrides else None
        if corrected is not None:
            out.append([name for name in INTENTS if name in corrected])
            continue
        complaint = proba[row] >= thresholds[0 if english[row] else 1]
        question, praise, purchase, spam = rule_intents(canon)
        flags = (complaint, question, praise and not complaint, purchase, spam)
        out.append([name for name, flag in zip(INTENTS, flags, strict=True) if flag])
    return out


def predict_intents(
    texts: list[str], langs: list[str | None], model_dir: Path | None = None
) -> list[list[str]]:
    """The intents of each post, a subset of INTENTS in that order (empty: none applies)."""
    _check(texts, langs)
    if not texts:
        return []
    return predict_intents_from_features(featurize(texts), langs, model_dir)


def train_intents(
    data_dir: Path,
    out_dir: Path = MODEL_DIR,
    corrections: list[tuple[str, str | None, list[str]]] | None = None,
) -> dict[str, Any]:
    """Train the complaint models on `data_dir` (plus user corrections) and write them."""
    from clameur.nlp.intent_train import train

    report = train(Path(data_dir), Path(out_dir), corrections)
    forget_models()
    return report


def evaluate_intents(data_dir: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Complaints 10-fold CV of the recipe, and per-intent scores on twcs-topic-labels."""
    from clameur.nlp.intent_train import evaluate

    return evaluate(Path(data_dir), model_dir)
