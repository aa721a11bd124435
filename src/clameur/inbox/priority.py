"""A conversation's priority: a score in [0, 100] from what was said, who said it, how fast it
spreads and how long the customer has been waiting, with the reasons behind it.

    score = intent + influence + waiting + negative + velocity          (clamped to [0, 100])

    intent    = the strongest of the post's intents: complaint 40, question 25,
                purchase_intent 20, praise 5; spam -75 instead of any other intent, so that
                a spam post stays low whatever else it has (at most 85 - 75 = 10)
    influence = 35 * I / 100      I = the author's influence score (0-100, clameur.nlp.influence);
                                  when unknown, worked out from the followers count alone
    waiting   = 25 * min(1, W / 4 h)          W = time since the customer's last unanswered
                                              message: grows steadily, full after four hours
    negative  = 10 when the sentiment is negative, else 0 (most complaints are negative
                already: the sentiment mostly lifts what has no intent)
    velocity  = min(15, 5 * log10(1 + V))     V = (likes + shares + replies) per hour since
                                              posting, the age counted as at least 15 minutes
                                              so that a fresh post's first like is no landslide

Levels: urgent from 75, high from 50, normal from 25, low below. So a negative complaint from an
author with 48,000 followers (influence 40), waiting for two hours, is urgent
(40 + 14 + 12.5 + 10 = 76.5); a neutral question from a small account is normal, and high once
it has waited four hours; praise is low. The score never decreases as the waiting time, the
influence or the engagement grows.

Reasons are stable codes with their values, largest contribution first, for the interface to
phrase (`explain` does it in English and French): ("complaint", {}), ("question", {}),
("purchase_intent", {}), ("praise", {}), ("spam", {}), ("negative", {}),
("followers", {"count": 48000}), ("velocity", {"per_hour": 12.5}), ("waiting", {"minutes": 120}).
A part worth less than one point is no reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from clameur.nlp.influence import compact_number, short_decimal
from clameur.nlp.influence import influence as author_influence

INTENT_POINTS = {"complaint": 40.0, "question": 25.0, "purchase_intent": 20.0, "praise": 5.0}
SPAM_POINTS = -75.0
INFLUENCE_POINTS = 35.0
NEGATIVE_POINTS = 10.0
VELOCITY_POINTS = 15.0
VELOCITY_SLOPE = 5.0  # points per factor of ten in interactions per hour
VELOCITY_MIN_AGE = timedelta(minutes=15)
WAITING_POINTS = 25.0
WAITING_FULL = timedelta(hours=4)
# Lowest score of each level, highest first.
LEVELS = ((75, "urgent"), (50, "high"), (25, "normal"), (0, "low"))
REASON_MIN_POINTS = 1.0

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "complaint": "complaint",
        "question": "question",
        "purchase_intent": "purchase intent",
        "praise": "praise",
        "spam": "spam",
        "negative": "negative",
        "follower": "{count} follower",
        "followers": "{count} followers",
        "velocity": "{count} interactions/h",
        "waiting": "{duration} waiting",
        "crisis": "crisis",
    },
    "fr": {
        "complaint": "réclamation",
        "question": "question",
        "purchase_intent": "intention d’achat",
        "praise": "compliment",
        "spam": "spam",
        "negative": "ton négatif",
        "follower": "{count} abonné",
        "followers": "{count} abonnés",
        "velocity": "{count} interactions/h",
        "waiting": "{duration} d’attente",
        "crisis": "crise",
    },
}


@dataclass(frozen=True, slots=True)
class Priority:
    """A conversation's priority score (0-100), its level and its reasons, largest first."""

    score: int
    level: str
    reasons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def level_of(score: float) -> str:
    """The level of a score: "urgent", "high", "normal" or "low"."""
    return next(name for lowest, name in LEVELS if score >= lowest)


def score_priority(
    sentiment: str | None,
    intents: Sequence[str],
    influence: float | None,
    followers: int,
    engagement: int,
    age: timedelta,
    waiting: timedelta,
) -> Priority:
    """The priority of a conversation (see the module docstring for the formula)."""
    followers = max(0, int(followers))
    parts: list[tuple[float, str, dict[str, Any]]] = []

    known = [intent for intent in intents if intent in INTENT_POINTS]
    if "spam" in intents:
        parts.append((SPAM_POINTS, "spam", {}))
    elif known:
        strongest = max(known, key=INTENT_POINTS.__getitem__)
        parts.append((INTENT_POINTS[strongest], strongest, {}))
    if sentiment == "negative":
        parts.append((NEGATIVE_POINTS, "negative", {}))

    if influence is None:
        influence = author_influence(followers, False, None).score
    influence = min(100.0, max(0.0, float(influence)))
    parts.append((INFLUENCE_POINTS * influence / 100, "followers", {"count": followers}))

    hours = max(age, VELOCITY_MIN_AGE) / timedelta(hours=1)
    per_hour = max(0, int(engagement)) / hours
    velocity = min(VELOCITY_POINTS, VELOCITY_SLOPE * math.log10(1 + per_hour))
    parts.append((velocity, "velocity", {"per_hour": round(per_hour, 1)}))

    waited = max(waiting, timedelta(0))
    waiting_points = WAITING_POINTS * min(1.0, waited / WAITING_FULL)
    parts.append((waiting_points, "waiting", {"minutes": int(waited // timedelta(minutes=1))}))

    score = min(100.0, max(0.0, sum(points for points, _, _ in parts)))
    # Sorted by weight whatever the sign (spam is a large reason for a low score); stable, so
    # equal parts keep the order above.
    parts.sort(key=lambda part: -abs(part[0]))
    reasons = [(code, values) for points, code, values in parts if abs(points) >= REASON_MIN_POINTS]
    # Rounded half up, so the level always agrees with the shown score.
    shown = int(math.floor(score + 0.5))
    return Priority(shown, level_of(shown), reasons)


def explain(priority: Priority, locale: str = "en", limit: int = 3) -> str:
    """The main reasons as one short phrase, in English or French ("fr", "fr_FR", ...):
    "complaint, 48K followers, 2h waiting" / "réclamation, 48 k abonnés, 2 h d’attente"."""
    lang = "fr" if locale.lower().startswith("fr") else "en"
    words = _PHRASES[lang]
    phrases = []
    for code, values in priority.reasons[:limit]:
        if code == "followers":
            count = values["count"]
            one = count <= 1 if lang == "fr" else count == 1
            phrase = words["follower" if one else "followers"]
            phrases.append(phrase.format(count=compact_number(count, lang)))
        elif code == "velocity":
            phrases.append(words["velocity"].format(count=short_decimal(values["per_hour"], lang)))
        elif code == "waiting":
            phrases.append(words["waiting"].format(duration=_duration(values["minutes"], lang)))
        elif code in words:
            phrases.append(words[code])
    return ", ".join(phrases)


@lru_cache(maxsize=4096)
def _duration(minutes: int, lang: str) -> str:
    from babel.dates import format_timedelta

    # "2h" in English; French sets a narrow no-break space before the unit ("2 h"). A threshold
    # of 2 keeps 90 minutes as "90m" instead of rounding it up to two hours.
    return format_timedelta(
        timedelta(minutes=minutes),
        threshold=2,
        format="short" if lang == "fr" else "narrow",
        locale=lang,
    )
