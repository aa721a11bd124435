"""Author influence: a score in [0, 100] from the audience, verification and engagement, explained.

    score = followers part + verified part + engagement part            (at most 100)

    followers part  = 60 * log10(1 + F) / 7         F = followers, counted up to 10 million
    verified part   = 10 when the account is verified, else 0
    engagement part = min(30, 60/7 * log10(1 + rate / 0.0001)), 0 when no metrics are known
        interactions = likes + 2 * shares + replies
        rate         = interactions / (F + 100)      (the 100 keeps a tiny account's two likes
                                                      from reading as a landslide)

So 100 followers give 17 points, 10,000 give 34, a million 51, ten million and more 60; an
engagement rate of 0.1% gives 9 points, 1% 17, 5% 23, 32% and more 30. Both log scales have
the same slope (60/7 points per factor of ten), so the score never decreases when followers grow
for the same interactions: the followers part gains at least what the engagement rate loses.
It never decreases when interactions grow either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ENRICHER_NAME = "influence"
# Change it whenever the formula or its constants change.
ENRICHER_VERSION = "followers60-log7+verified10+engagement30-rate-1"

FOLLOWERS_POINTS = 60.0
FOLLOWERS_CAP = 10_000_000
VERIFIED_POINTS = 10.0
ENGAGEMENT_POINTS = 30.0
_SLOPE = FOLLOWERS_POINTS / math.log10(1 + FOLLOWERS_CAP)  # points per factor of ten
_AUDIENCE_FLOOR = 100
_RATE_UNIT = 0.0001
# Engagement rate levels: (lowest rate, level).
LEVELS = ((0.05, "very_high"), (0.01, "high"), (0.001, "moderate"), (0.0, "low"))
# Metric names networks and exports use, by what they count.
_LIKES = ("likes", "favorites", "reactions")
_SHARES = ("shares", "reposts", "retweets")
_REPLIES = ("replies", "comments")

# (singular, plural) nouns and phrases of the explanation, by language.
_NOUNS = {
    "en": {"follower": ("follower", "followers"), "interaction": ("interaction", "interactions")},
    "fr": {"follower": ("abonné", "abonnés"), "interaction": ("interaction", "interactions")},
}
_PHRASES = {
    "en": {
        "verified": "verified",
        "none": "no interactions",
        "very_high": "very high engagement",
        "high": "high engagement",
        "moderate": "moderate engagement",
        "low": "low engagement",
        "of_audience": "of the audience",
    },
    "fr": {
        "verified": "compte certifié",
        "none": "aucune interaction",
        "very_high": "engagement très élevé",
        "high": "engagement élevé",
        "moderate": "engagement moyen",
        "low": "engagement faible",
        "of_audience": "de l'audience",
    },
}


@dataclass(frozen=True, slots=True)
class Influence:
    """An author's influence score and its parts.

    `reasons` holds stable codes and their values, for the interface to phrase:
    ("followers", {"count", "points"}), ("verified", {"points"}) and
    ("engagement", {"interactions", "rate", "level", "points"}), the level being one of
    "none", "low", "moderate", "high", "very_high".
    """

    score: float
    reasons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def explain(self, locale: str = "en") -> str:
        """The reasons as one short phrase, in English or French ("fr", "fr_FR", ...)."""
        lang = "fr" if locale.lower().startswith("fr") else "en"
        words = _PHRASES[lang]

        def count(number: int, noun: str) -> str:
            singular, plural = _NOUNS[lang][noun]
            one = number <= 1 if lang == "fr" else number == 1
            shown = compact_number(number, lang)
            return f"{shown} {singular if one else plural}"

        parts = []
        for code, values in self.reasons:
            if code == "followers":
                parts.append(count(values["count"], "follower"))
            elif code == "verified":
                parts.append(words["verified"])
            elif code == "engagement":
                if values["level"] == "none":
                    parts.append(words["none"])
                    continue
                # French puts a (narrow no-break) space before the percent sign.
                rate = short_decimal(values["rate"] * 100, lang)
                rate += "\u202f%" if lang == "fr" else "%"
                parts.append(
                    f"{words[values['level']]} ({count(values['interactions'], 'interaction')}, "
                    f"{rate} {words['of_audience']})"
                )
        return ", ".join(parts)


@lru_cache(maxsize=4096)
def compact_number(number: int, lang: str) -> str:
    """12.3K / 12,3 k; pages show many cards with the same counts, so each is formatted once."""
    # Imported here: Babel is only needed when a person reads the explanation.
    from babel.numbers import format_compact_decimal

    return format_compact_decimal(number, locale=lang, fraction_digits=1)


@lru_cache(maxsize=4096)
def short_decimal(value: float, lang: str) -> str:
    """1,234.5 / 1 234,5: one decimal at most."""
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.#", locale=lang)


def _metric(metrics: Mapping[str, int], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = metrics.get(name)
        if value is not None:
            return max(0, int(value))
    return None


def influence(followers: int, verified: bool, metrics: Mapping[str, int] | None) -> Influence:
    """The influence of a post's author (see the module docstring for the formula)."""
    followers = max(0, int(followers))
    audience = min(followers, FOLLOWERS_CAP)
    follower_points = _SLOPE * math.log10(1 + audience)
    score = follower_points
    reasons: list[tuple[str, dict[str, Any]]] = [
        ("followers", {"count": followers, "points": round(follower_points, 1)})
    ]
    if verified:
        score += VERIFIED_POINTS
        reasons.append(("verified", {"points": VERIFIED_POINTS}))
    if metrics:
        likes = _metric(metrics, _LIKES)
        shares = _metric(metrics, _SHARES)
        replies = _metric(metrics, _REPLIES)
        if likes is not None or shares is not None or replies is not None:
            interactions = (likes or 0) + 2 * (shares or 0) + (replies or 0)
            rate = interactions / (audience + _AUDIENCE_FLOOR)
            points = min(ENGAGEMENT_POINTS, _SLOPE * math.log10(1 + rate / _RATE_UNIT))
            score += points
            level = "none"
            if interactions:
                level = next(name for lowest, name in LEVELS if rate >= lowest)
            reasons.append(
                (
                    "engagement",
                    {
                        "interactions": interactions,
                        "rate": round(rate, 4),
                        "level": level,
                        "points": round(points, 1),
                    },
                )
            )
    return Influence(round(min(100.0, score), 1), reasons)
