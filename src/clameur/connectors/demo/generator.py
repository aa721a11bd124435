"""The demo's stream: a fictional festival's social-media chatter, made from templates and chance.

Nothing here touches a database. Each post is a plain dict in the import schema (`PostIn`)
with two extra keys the importer ignores: `_demo_topic`, the template's topic (so tests and
benchmarks can check the mix) and `_demo_lang`, the language the template was written in.
Sentiment, intents and language are left out on purpose: the product's NLP computes them.
"""

from __future__ import annotations

import json
import math
import random
import time
import unicodedata
from bisect import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clameur.connectors.demo.workspace import BRAND_ACCOUNTS, COMPETITORS
from clameur.kit.time import utcnow

BASE_RATE_PER_MINUTE = 40.0
CRISIS_RAMP_S = 600.0
FRENCH_SHARE = 0.65
URL_BASE = "https://demo.clameur.invalid"
HISTORY_DAYS = 7

CRISIS_TOPICS = ("crisis_shuttle", "crisis_entry", "crisis_food", "crisis_refund", "crisis_press")
BRAND_TOPICS = ("brand_post", "brand_statement", "brand_reply")

# Everyday conversation, as relative weights of what is not about the crisis.
_CALM_MIX = {
    "chatter": 24.0,
    "artist_praise": 20.0,
    "tickets": 17.0,
    "competitor": 12.0,
    "purchase_intent": 11.0,
    "spam": 3.0,
    "press": 3.0,
}
# Before the festival the odd complaint exists, but nothing builds up.
_HISTORY_CRISIS_SHARE = 0.01
_HISTORY_CRISIS_WEIGHTS = {
    "crisis_shuttle": 1.0,
    "crisis_entry": 1.0,
    "crisis_food": 1.0,
    "crisis_refund": 1.0,
    "crisis_press": 0.0,
}
_REPLY_SHARE = {
    "crisis_shuttle": 0.35,
    "crisis_entry": 0.3,
    "crisis_food": 0.35,
    "crisis_refund": 0.4,
    "tickets": 0.15,
    "purchase_intent": 0.15,
    "artist_praise": 0.2,
    "chatter": 0.25,
    "competitor": 0.1,
}
# What the brand answers; it never answers the press or spam.
_ANSWERABLE = frozenset(
    ("crisis_shuttle", "crisis_entry", "crisis_food", "crisis_refund", "tickets", "purchase_intent")
)
_BRAND_SHARE_HISTORY = 0.03
_BRAND_SHARE_LIVE = 0.045
_SPAM_WAVE_SHARE = 0.3
_HISTORY_SPAM_WAVES = 3
_HISTORY_SPAM_WAVE_S = 1200.0
# Live copy-paste waves: (start, duration) in seconds since the stream started; then periodic.
_LIVE_SPAM_WAVES = ((150.0, 25.0), (420.0, 30.0), (780.0, 20.0))
_LIVE_SPAM_PERIOD_FROM = 900.0
_LIVE_SPAM_PERIOD_S = 360.0
_LIVE_SPAM_PERIOD_LEN_S = 20.0

# Posting activity by local hour (Europe/Paris): quiet nights, busy evenings.
_HOURLY = (
    0.35, 0.2, 0.12, 0.07, 0.05, 0.08, 0.2, 0.45, 0.7, 0.85, 0.95, 1.05,
    1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 1.9, 2.1, 2.2, 1.8, 1.0,
)  # fmt: skip

_PEOPLE_NETWORKS = {
    "fr": {
        "x": 28, "instagram": 24, "facebook": 18, "bluesky": 8, "mastodon": 7,
        "reddit": 6, "youtube": 8, "linkedin": 1,
    },
    "en": {
        "x": 30, "instagram": 20, "facebook": 8, "bluesky": 10, "mastodon": 6,
        "reddit": 16, "youtube": 9, "linkedin": 1,
    },
}  # fmt: skip
_BOT_NETWORKS = ("x", "x", "instagram", "facebook")
_MASTODON_INSTANCES = ("mastodon.social", "piaille.fr", "mamot.fr", "framapiaf.org")
_BRAND_FOLLOWERS = {
    "x": 18_400, "instagram": 52_300, "facebook": 31_000, "mastodon": 2_100,
    "bluesky": 6_400, "linkedin": 8_900, "youtube": 12_700,
}  # fmt: skip
_BRAND_POST_NETWORKS = {
    "x": 3.0, "instagram": 3.0, "facebook": 2.0, "linkedin": 0.7,
    "mastodon": 0.8, "bluesky": 0.8, "youtube": 0.4,
}  # fmt: skip
# Networks where a reply names the person it answers.
_MENTION_NETWORKS = frozenset(("x", "mastodon", "bluesky"))
_LONG_NETWORKS = frozenset(("reddit", "facebook", "youtube"))
_INSTAGRAM_TAGS = (
    "#festival", "#summer", "#musique", "#sete", "#occitanie", "#concert",
    "#festivalfrance", "#sunset", "#livemusic", "#ete",
)  # fmt: skip
_NAME_EMOJI = ("🌻", "☀️", "🎶", "🌊", "✨", "🌙", "🍉", "🎧")

_SMS_FR = (
    ("Quelqu'un", "Qqn"),
    ("quelqu'un", "qqn"),
    ("c'est", "c"),
    ("pourquoi", "pk"),
    ("beaucoup", "bcp"),
    ("toujours", "tjrs"),
    ("Bonjour", "Bjr"),
    ("vraiment", "vrmt"),
    ("aujourd'hui", "ajd"),
    ("il y a", "ya"),
)
_SMS_EN = ((" you ", " u "), ("tonight", "tonite"), ("because", "cuz"), (" are ", " r "))
_NO_ACCENTS = str.maketrans(
    {
        **{c: "a" for c in "àâä"},
        **{c: "e" for c in "éèêë"},
        **{c: "i" for c in "îï"},
        **{c: "o" for c in "ôö"},
        **{c: "u" for c in "ùûü"},
        "ç": "c",
        "É": "E",
        "È": "E",
        "À": "A",
        "Ç": "C",
        "œ": "oe",
    }
)


def _smooth(x: float) -> float:
    """Smoothstep on [0, 1]: a slow start, a steep middle, a flat top."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * (3.0 - 2.0 * x)


def crisis_share(elapsed_s: float) -> float:
    """Share of live posts about the crisis: a trickle (5%) to a flood (60%), then waves."""
    if elapsed_s < CRISIS_RAMP_S:
        return 0.05 + 0.55 * _smooth(elapsed_s / CRISIS_RAMP_S)
    after = elapsed_s - CRISIS_RAMP_S
    return (
        0.6
        + 0.08 * math.sin(2.0 * math.pi * after / 240.0)
        + 0.04 * math.sin(2.0 * math.pi * after / 97.0)
    )


def intensity(elapsed_s: float) -> float:
    """How busy the stream is compared with its calm start (1.0), rising threefold in the crisis."""
    if elapsed_s < CRISIS_RAMP_S:
        return 1.0 + 2.0 * _smooth(elapsed_s / CRISIS_RAMP_S)
    return 3.0 + 0.5 * math.sin(2.0 * math.pi * (elapsed_s - CRISIS_RAMP_S) / 240.0)


def crisis_weights(elapsed_s: float) -> dict[str, float]:
    """Which complaints dominate: shuttles and the entrance first, then food, then refunds."""
    t = min(max(elapsed_s, 0.0) / CRISIS_RAMP_S, 1.0)
    return {
        "crisis_shuttle": 1.2 - 0.6 * t,
        "crisis_entry": 0.9 - 0.5 * t,
        "crisis_food": 0.3 + 0.9 * _smooth((elapsed_s - 120.0) / 300.0),
        # The headliner cancels a few minutes in; refund demands then take over.
        "crisis_refund": 0.15 + 1.85 * _smooth((elapsed_s - 240.0) / 360.0),
        "crisis_press": 0.04 + 0.08 * t,
    }


def _live_spam_wave(elapsed_s: float) -> int | None:
    """The index of the copy-paste spam wave running at that time, if any."""
    for index, (begin, length) in enumerate(_LIVE_SPAM_WAVES):
        if begin <= elapsed_s < begin + length:
            return index
    if elapsed_s >= _LIVE_SPAM_PERIOD_FROM:
        cycle, offset = divmod(elapsed_s - _LIVE_SPAM_PERIOD_FROM, _LIVE_SPAM_PERIOD_S)
        if offset < _LIVE_SPAM_PERIOD_LEN_S:
            return len(_LIVE_SPAM_WAVES) + int(cycle)
    return None


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum()).lower()


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class _Slots(dict[str, str]):
    """Template slots: fixed values for this post, a random pick from the vocabulary otherwise."""

    __slots__ = ("vocab", "choice")

    def __init__(self, vocab: dict[str, list[str]], choice: Any) -> None:
        super().__init__()
        self.vocab = vocab
        self.choice = choice

    def __missing__(self, key: str) -> str:
        return str(self.choice(self.vocab[key]))


@dataclass(slots=True)
class _Author:
    handles: dict[str, str]
    name: str
    followers: int
    verified: bool
    networks: tuple[str, ...]


@dataclass(slots=True)
class _Recent:
    """What a later post needs to know to reply to an earlier one."""

    id: str
    conversation_id: str
    network: str
    handle: str
    topic: str
    theme: str  # the topic a brand reply or statement is about; the topic otherwise
    lang: str
    ts: float


@dataclass(slots=True)
class _Mix:
    topics: tuple[str, ...]
    cum: list[float]


@dataclass(slots=True)
class _Phrasebook:
    vocab: dict[str, dict[str, list[str]]]
    posts: dict[str, dict[str, list[str]]]
    replies: dict[str, dict[str, list[str]]]
    brand_posts: dict[str, list[str]]
    brand_statements: dict[str, dict[str, list[str]]]
    brand_replies: dict[str, dict[str, list[str]]]
    spam: list[tuple[str, str]]
    competitors: list[list[str]]
    people: dict[str, Any]


@lru_cache(maxsize=1)
def _phrasebook() -> _Phrasebook:
    """Load the templates and vocabulary shipped next to this module."""
    raw = json.loads((Path(__file__).parent / "phrases.json").read_text(encoding="utf-8"))
    slots = raw["slots"]
    vocab: dict[str, dict[str, list[str]]] = {}
    for lang in ("fr", "en"):
        merged = {**slots["shared"], **slots[lang]}
        if lang == "fr":
            merged["de_artist"] = [_de(name) for name in merged["artist"]]
        else:
            merged["de_artist"] = [f"by {name}" for name in merged["artist"]]
        vocab[lang] = merged
    topics = raw["topics"]
    posts = {topic: {lang: t[lang]["post"] for lang in t} for topic, t in topics.items()}
    replies = {
        topic: {lang: t[lang]["reply"] for lang in t if "reply" in t[lang]}
        for topic, t in topics.items()
    }
    spam = [(lang, text) for lang in ("fr", "en") for text in topics["spam"][lang]["post"]]
    competitors = [raw["competitors"][name] for name in COMPETITORS]
    return _Phrasebook(
        vocab=vocab,
        posts=posts,
        replies=replies,
        brand_posts=raw["brand_posts"],
        brand_statements=raw["brand_statements"],
        brand_replies=raw["brand_replies"],
        spam=spam,
        competitors=competitors,
        people=raw["people"],
    )


def _de(name: str) -> str:
    """French 'de' with elision: "d'Aurore Bleue", "de Kid Lavande", "du festival X"."""
    lowered = name.lower()
    if lowered.startswith("le "):
        return "du " + name[3:]
    if lowered.startswith("les "):
        return "des " + name[4:]
    if name[:1].lower() in "aeiouyhéèêîôâ":
        return "d'" + name
    return "de " + name


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


class _Cast:
    """The few hundred fictional people, media, influencers and bots who post in the demo."""

    def __init__(self, rng: random.Random, people: dict[str, Any]) -> None:
        self._taken: set[str] = set()
        self.people: dict[str, list[_Author]] = {"fr": [], "en": []}
        self.people_cum: dict[str, list[float]] = {}
        self.media: dict[str, list[_Author]] = {"fr": [], "en": []}
        activity: dict[str, list[float]] = {"fr": [], "en": []}
        for lang, count in (("fr", 290), ("en", 150)):
            for _ in range(count):
                self.people[lang].append(self._person(rng, people, lang))
                # Heavy-tailed activity: a few people post a lot.
                activity[lang].append(min(rng.paretovariate(1.4), 25.0))
        for spec in people["influencers"]:
            author = self._known(rng, spec)
            self.people[spec["lang"]].append(author)
            activity[spec["lang"]].append(4.0)
        for lang in ("fr", "en"):
            self.people_cum[lang] = _cumulative(activity[lang])
        for spec in people["media"]:
            self.media[spec["lang"]].append(self._known(rng, spec))
        self.bots = [
            _Author(
                handles=self._handles(rng, self._claim(handle)),
                name=handle.replace("_", " ").title() + " 🔥",
                followers=rng.randrange(0, 45),
                verified=False,
                networks=_BOT_NETWORKS,
            )
            for handle in people["bots"]
        ]
        self.brand = {
            account["network"]: _Author(
                handles={account["network"]: account["handle"]},
                name=account["display_name"],
                followers=_BRAND_FOLLOWERS.get(account["network"], 1_000),
                verified=True,
                networks=(account["network"],),
            )
            for account in BRAND_ACCOUNTS
        }

    def _claim(self, handle: str) -> str:
        candidate, suffix = handle, 1
        while candidate in self._taken:
            suffix += 1
            candidate = f"{handle}{suffix}"
        self._taken.add(candidate)
        return candidate

    @staticmethod
    def _handles(rng: random.Random, base: str) -> dict[str, str]:
        handles = {network: base for network in _PEOPLE_NETWORKS["fr"]}
        handles["mastodon"] = f"{base}@{rng.choice(_MASTODON_INSTANCES)}"
        handles["bluesky"] = f"{base}.bsky.social"
        handles["rss"] = base
        return handles

    def _person(self, rng: random.Random, people: dict[str, Any], lang: str) -> _Author:
        first = rng.choice(people[f"{lang}_first"])
        last = rng.choice(people[f"{lang}_last"])
        a_first, a_last = _ascii(first), _ascii(last)
        style = rng.randrange(6)
        if style == 0:
            handle, name = f"{a_first}{a_last}", f"{first} {last}"
        elif style == 1:
            handle, name = f"{a_first}_{a_last[0]}{rng.randint(1, 99)}", f"{first} {last[0]}."
        elif style == 2:
            nick = rng.choice(people["nicks"])
            handle, name = f"{a_first}.{nick}", f"{first} {rng.choice(_NAME_EMOJI)}"
        elif style == 3:
            nick = rng.choice(people["nicks"])
            handle, name = f"{nick}_{a_first}{rng.randint(80, 2006)}", first.lower()
        elif style == 4:
            handle, name = f"{a_first}{a_last[:3]}", f"{first} {last}"
        else:
            handle, name = f"{a_last}_{a_first}", f"{first} {last.upper()}"
        networks_weights = _PEOPLE_NETWORKS[lang]
        networks = list(networks_weights)
        primary = rng.choices(networks, weights=list(networks_weights.values()))[0]
        chosen: tuple[str, ...] = (primary,)
        if rng.random() < 0.35:
            second = rng.choices(networks, weights=list(networks_weights.values()))[0]
            chosen = (primary, primary, second)
        followers = max(3, min(int(math.exp(rng.gauss(5.3, 1.5))), 80_000))
        return _Author(self._handles(rng, self._claim(handle)), name, followers, False, chosen)

    def _known(self, rng: random.Random, spec: dict[str, Any]) -> _Author:
        return _Author(
            handles=self._handles(rng, self._claim(spec["handle"])),
            name=spec["name"],
            followers=int(spec["followers"]),
            verified=True,
            networks=tuple(spec["networks"]),
        )


class DemoStream:
    """Posts about the fictional Festival Lueurs d'Été: a calm backlog, then a live crisis.

    Deterministic for a seed and a sequence of calls; ids are `demo-<seed>-<n>`, unique
    across `history` and `next_posts`.
    """

    def __init__(self, seed: int = 2017, start: datetime | None = None) -> None:
        self.seed = seed
        self.start = start or utcnow()
        self._rng = random.Random(seed)
        self._book = _phrasebook()
        # The cast has its own generator, so it does not depend on the order of calls.
        self._cast = _Cast(random.Random(f"clameur-demo-cast-{seed}"), self._book.people)
        self._slots = {
            lang: _Slots(self._book.vocab[lang], self._rng.choice) for lang in ("fr", "en")
        }
        self._n = 0
        self._clock = self.start.timestamp()
        self._recent: deque[_Recent] = deque(maxlen=300)
        self._to_answer: list[_Recent] = []
        self._spam_texts: dict[int, tuple[str, str]] = {}
        self._brand_networks = tuple(n for n in _BRAND_POST_NETWORKS if n in self._cast.brand)
        self._brand_network_cum = _cumulative(
            [_BRAND_POST_NETWORKS[n] for n in self._brand_networks]
        )

    # -- public API -------------------------------------------------------------------------

    def rate(self, elapsed_s: float) -> float:
        """Posts per minute suggested `elapsed_s` seconds into the stream (base 40, up to ~3x)."""
        return BASE_RATE_PER_MINUTE * intensity(elapsed_s)

    def history(self, count: int, end: datetime) -> list[dict[str, Any]]:
        """A calm backlog of `count` posts spread over the 7 days before `end`, oldest first."""
        if count <= 0:
            return []
        rng = self._rng
        end_ts = end.timestamp()
        span = HISTORY_DAYS * 86_400
        begin_ts = end_ts - span
        offset_h = _paris_offset_hours(end)
        hours = HISTORY_DAYS * 24
        weights = [
            _HOURLY[int((begin_ts / 3600 + h + offset_h) % 24)] * (1.0 + 0.6 * (h / hours))
            for h in range(hours)
        ]
        picked = rng.choices(range(hours), cum_weights=_cumulative(weights), k=count)
        random_ = rng.random
        stamps = sorted(begin_ts + h * 3600.0 + random_() * 3600.0 for h in picked)
        waves = sorted(
            begin_ts + random_() * (span - _HISTORY_SPAM_WAVE_S) for _ in range(_HISTORY_SPAM_WAVES)
        )
        calm = _mix(_HISTORY_CRISIS_SHARE, _HISTORY_CRISIS_WEIGHTS, spam_wave=False)
        wave_mix = _mix(_HISTORY_CRISIS_SHARE, _HISTORY_CRISIS_WEIGHTS, spam_wave=True)
        wave_ids = {begin: 100 + index for index, begin in enumerate(waves)}
        out: list[dict[str, Any]] = []
        append = out.append
        for ts in stamps:
            wave: int | None = None
            for begin in waves:
                if begin <= ts < begin + _HISTORY_SPAM_WAVE_S:
                    wave = wave_ids[begin]
                    break
            append(
                self._one(
                    ts,
                    wave_mix if wave is not None else calm,
                    wave,
                    _BRAND_SHARE_HISTORY,
                    _HISTORY_CRISIS_SHARE,
                    _HISTORY_CRISIS_WEIGHTS,
                    1.0,
                )
            )
        self._clock = max(self._clock, stamps[-1])
        return out

    def next_posts(self, now: datetime, elapsed_s: float, count: int) -> list[dict[str, Any]]:
        """The next `count` live posts, stamped between the previous call and `now`."""
        if count <= 0:
            return []
        now_ts = now.timestamp()
        low = min(max(self._clock, now_ts - 60.0), now_ts)
        random_ = self._rng.random
        stamps = sorted(low + random_() * (now_ts - low) for _ in range(count))
        self._clock = max(self._clock, now_ts)
        share = crisis_share(elapsed_s)
        weights = crisis_weights(elapsed_s)
        wave = _live_spam_wave(elapsed_s)
        mix = _mix(share, weights, spam_wave=wave is not None)
        return [self._one(ts, mix, wave, _BRAND_SHARE_LIVE, share, weights, 0.5) for ts in stamps]

    # -- one post ---------------------------------------------------------------------------

    def _one(
        self,
        ts: float,
        mix: _Mix,
        wave: int | None,
        brand_share: float,
        share: float,
        weights: dict[str, float],
        scale: float,
    ) -> dict[str, Any]:
        rng = self._rng
        random_ = rng.random
        if random_() < brand_share:
            return self._brand_action(ts, share, weights)
        topic = mix.topics[bisect(mix.cum, random_() * mix.cum[-1])]
        if topic == "spam":
            return self._spam(ts, wave)
        lang = "fr" if random_() < FRENCH_SHARE else "en"
        cast = self._cast
        if topic in ("press", "crisis_press"):
            author = rng.choice(cast.media[lang])
            return self._root(ts, topic, lang, author, rng.choice(author.networks), scale, False)
        people = cast.people[lang]
        author = people[bisect(cast.people_cum[lang], random_() * cast.people_cum[lang][-1])]
        if random_() < _REPLY_SHARE.get(topic, 0.0):
            parent = self._find_parent(topic)
            if parent is not None:
                if random_() < 0.85:
                    lang = parent.lang
                return self._reply(ts, topic, lang, author, parent, scale)
        return self._root(ts, topic, lang, author, rng.choice(author.networks), scale, True)

    def _root(
        self,
        ts: float,
        topic: str,
        lang: str,
        author: _Author,
        network: str,
        scale: float,
        rough: bool,
    ) -> dict[str, Any]:
        rng = self._rng
        templates = self._book.posts[topic][lang]
        # People write longer on forums and pages; headlines and brand posts stay single.
        if rough and network in _LONG_NETWORKS and len(templates) > 1 and rng.random() < 0.2:
            first, second = (self._fill(t, lang) for t in rng.sample(templates, 2))
            ends_in_word = first[-1].isalnum() and first.rsplit(" ", 1)[-1][0] not in "#@"
            text = f"{first}{'.' if ends_in_word else ''} {second}"
        else:
            text = self._fill(rng.choice(templates), lang)
        if rough:
            text = self._roughen(text, lang, topic)
        if network == "instagram" and rng.random() < 0.4:
            text = f"{text} {' '.join(rng.sample(_INSTAGRAM_TAGS, rng.randint(2, 4)))}"
        return self._emit(ts, topic, topic, lang, network, author, text, None, scale)

    def _reply(
        self,
        ts: float,
        topic: str,
        lang: str,
        author: _Author,
        parent: _Recent,
        scale: float,
    ) -> dict[str, Any]:
        rng = self._rng
        templates = self._book.replies[topic].get(lang) or self._book.posts[topic][lang]
        text = self._roughen(self._fill(rng.choice(templates), lang), lang, topic)
        network = parent.network
        if network in _MENTION_NETWORKS or (network == "instagram" and rng.random() < 0.5):
            text = f"@{parent.handle} {text}"
        return self._emit(
            max(ts, parent.ts), topic, topic, lang, network, author, text, parent, scale * 0.4
        )

    def _spam(self, ts: float, wave: int | None) -> dict[str, Any]:
        """A bot's post; during a wave, the same text copied and pasted by every bot."""
        rng = self._rng
        if wave is None:
            lang, template = rng.choice(self._book.spam)
            text = self._fill(template, lang)
        else:
            if wave not in self._spam_texts:
                lang, template = self._book.spam[(self.seed + 7 * wave) % len(self._book.spam)]
                self._spam_texts[wave] = (lang, self._fill(template, lang))
            lang, text = self._spam_texts[wave]
            roll = rng.random()
            if roll < 0.2:
                text = f"{text} {rng.choice(('🔥', '💥', '✅', '👇', '🎁'))}"
            elif roll < 0.3:
                text = f"{text} [{rng.randrange(1000, 9999)}]"
            elif roll < 0.4:
                text = text.replace("👉", "➡️")
        author = rng.choice(self._cast.bots)
        network = rng.choice(author.networks)
        return self._emit(ts, "spam", "spam", lang, network, author, text, None, 0.05)

    def _brand_action(self, ts: float, share: float, weights: dict[str, float]) -> dict[str, Any]:
        """The brand answers a waiting complaint or question, or posts an announcement."""
        rng = self._rng
        book = self._book
        queue = self._to_answer
        if queue and rng.random() < 0.8:
            parent = queue.pop(len(queue) - 1 - rng.randrange(min(len(queue), 25)))
            lang = parent.lang
            by_topic = book.brand_replies[lang]
            templates = by_topic.get(parent.theme) or by_topic["default"]
            text = self._fill(rng.choice(templates), lang)
            if parent.network in _MENTION_NETWORKS or parent.network == "instagram":
                text = f"@{parent.handle} {text}"
            author = self._cast.brand[parent.network]
            return self._emit(
                max(ts, parent.ts), "brand_reply", parent.theme, lang, parent.network,
                author, text, parent, 0.6,
            )  # fmt: skip
        lang = "fr" if rng.random() < 0.85 else "en"
        network = self._brand_networks[
            bisect(self._brand_network_cum, rng.random() * self._brand_network_cum[-1])
        ]
        author = self._cast.brand[network]
        if share > 0.2 and rng.random() < share:
            subtopics = list(weights)
            theme = rng.choices(subtopics, weights=[weights[s] for s in subtopics])[0]
            text = self._fill(rng.choice(book.brand_statements[lang][theme]), lang)
            return self._emit(ts, "brand_statement", theme, lang, network, author, text, None, 1.0)
        text = self._fill(rng.choice(book.brand_posts[lang]), lang)
        return self._emit(ts, "brand_post", "brand_post", lang, network, author, text, None, 1.0)

    # -- helpers ----------------------------------------------------------------------------

    def _find_parent(self, topic: str) -> _Recent | None:
        """A recent post this one can answer: same theme, or one of the brand's announcements."""
        recent = self._recent
        if not recent:
            return None
        rng = self._rng
        window = min(len(recent), 200)
        for _ in range(8):
            candidate = recent[-1 - rng.randrange(window)]
            if candidate.theme == topic and candidate.topic != "crisis_press":
                return candidate
            if candidate.topic == "brand_post" and topic != "competitor":
                return candidate
        return None

    def _fill(self, template: str, lang: str) -> str:
        slots = self._slots[lang]
        slots.clear()
        if "rival" in template:
            variants = self._rng.choice(self._book.competitors)
            rival = self._rng.choice(variants)
            slots["rival"] = rival
            slots["de_rival"] = _de(rival)
        return " ".join(template.format_map(slots).split())

    def _roughen(self, text: str, lang: str, topic: str) -> str:
        """Typos, SMS spelling, missing accents, phone apostrophes: how people really type."""
        random_ = self._rng.random
        if lang == "fr":
            if random_() < 0.12:
                for long, short in _SMS_FR:
                    text = text.replace(long, short)
            if random_() < 0.2:
                text = text.translate(_NO_ACCENTS)
        elif random_() < 0.1:
            for long, short in _SMS_EN:
                text = text.replace(long, short)
        if random_() < 0.15:
            text = text.replace("'", "’")
        roll = random_()
        if roll < 0.12:
            text = text.lower()
        elif roll < 0.16 and topic.startswith("crisis_"):
            text = text.upper()
        if random_() < 0.12:
            text = self._typo(text)
        return text

    def _typo(self, text: str) -> str:
        """Swap, drop or double one letter, never inside a mention, hashtag or link."""
        size = len(text)
        if size < 8:
            return text
        rng = self._rng
        i = rng.randrange(1, size - 2)
        a, b = text[i], text[i + 1]
        if not (a.isalpha() and b.isalpha()):
            return text
        start = text.rfind(" ", 0, i) + 1
        if text[start] in "@#" or text.startswith("http", start):
            return text
        roll = rng.random()
        if roll < 0.4:
            return text[:i] + b + a + text[i + 2 :]
        if roll < 0.7:
            return text[:i] + text[i + 1 :]
        return text[:i] + a + text[i:]

    def _metrics(self, followers: int, scale: float) -> dict[str, int]:
        """Likes grow with the square root of the audience, times a heavy-tailed luck factor."""
        random_ = self._rng.random
        reach = 2.0 + math.sqrt(followers)
        luck = self._rng.paretovariate(1.8) - 1.0
        likes = int(reach * luck * scale * 0.6)
        return {
            "likes": likes,
            "shares": int(likes * random_() * 0.3),
            "replies": int(likes * random_() * 0.15),
        }

    def _emit(
        self,
        ts: float,
        topic: str,
        theme: str,
        lang: str,
        network: str,
        author: _Author,
        text: str,
        parent: _Recent | None,
        scale: float,
    ) -> dict[str, Any]:
        self._n += 1
        post_id = f"demo-{self.seed}-{self._n}"
        conversation = parent.conversation_id if parent is not None else post_id
        handle = author.handles[network]
        recent = _Recent(post_id, conversation, network, handle, topic, theme, lang, ts)
        self._recent.append(recent)
        if topic in _ANSWERABLE and network in self._cast.brand:
            queue = self._to_answer
            queue.append(recent)
            if len(queue) > 600:
                del queue[:200]
        return {
            "id": post_id,
            "network": network,
            "text": text,
            "created_at": _iso(ts),
            "author": {
                "handle": handle,
                "name": author.name,
                "followers": author.followers,
                "verified": author.verified,
            },
            "url": f"{URL_BASE}/{network}/{post_id}",
            "in_reply_to": parent.id if parent is not None else None,
            "conversation_id": conversation,
            "metrics": self._metrics(author.followers, scale),
            "_demo_topic": topic,
            "_demo_lang": lang,
        }


def _mix(share: float, weights: dict[str, float], *, spam_wave: bool) -> _Mix:
    """Topic weights: `share` of the crisis (split by `weights`), the rest everyday talk."""
    crisis_total = sum(weights.values()) or 1.0
    calm_total = sum(_CALM_MIX.values())
    combined = {topic: share * w / crisis_total for topic, w in weights.items()}
    for topic, w in _CALM_MIX.items():
        combined[topic] = (1.0 - share) * w / calm_total
    if spam_wave:
        combined = {topic: w * (1.0 - _SPAM_WAVE_SHARE) for topic, w in combined.items()}
        combined["spam"] += _SPAM_WAVE_SHARE
    return _Mix(tuple(combined), _cumulative(list(combined.values())))


def _paris_offset_hours(moment: datetime) -> float:
    try:
        offset = moment.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
    except ZoneInfoNotFoundError:  # no tz database: a summer festival runs on CEST
        return 2.0
    return offset.total_seconds() / 3600 if offset is not None else 2.0
