"""What a post card shows beyond the post's own columns: the influence explained, who corrected
what. Plain functions of a post, registered as template globals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clameur.listening.corrections import ENRICHMENT_OF
from clameur.models import Post
from clameur.nlp.influence import Influence
from clameur.pipeline.schemas import INTENTS


@dataclass(frozen=True, slots=True)
class CorrectionMark:
    """A field of the post that a person corrected: who (a user id) and when."""

    field: str
    by: int | None
    at: datetime | None


def influence_of(post: Post) -> Influence | None:
    """The author's influence with its reasons, rebuilt from the stored enrichment."""
    if post.influence is None:
        return None
    stored = (post.enrichments or {}).get("influence") or {}
    reasons: list[tuple[str, dict[str, Any]]] = []
    # Stored as JSON: a list of [code, values] pairs; anything else is an older shape, skipped.
    for reason in stored.get("reasons") or []:
        if (
            isinstance(reason, list | tuple)
            and len(reason) == 2
            and isinstance(reason[0], str)
            and isinstance(reason[1], dict)
        ):
            reasons.append((reason[0], reason[1]))
    return Influence(score=float(post.influence), reasons=reasons)


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def corrections_of(post: Post) -> list[CorrectionMark]:
    """The fields whose current value a person set, in the order sentiment, intents, hostile."""
    enrichments = post.enrichments or {}
    marks = []
    for field, name in ENRICHMENT_OF.items():
        entry = enrichments.get(name)
        if isinstance(entry, dict) and entry.get("version") == "correction":
            by = entry.get("by")
            marks.append(
                CorrectionMark(field, by if isinstance(by, int) else None, _moment(entry.get("at")))
            )
    return marks


def toggled(intents: list[str] | None, intent: str) -> str:
    """The post's intents with `intent` switched on or off, as a form value (comma-separated)."""
    current = set(intents or [])
    current ^= {intent}
    return ",".join(each for each in INTENTS if each in current)
