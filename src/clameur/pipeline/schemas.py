"""The import schema: one post as it enters Clameur (JSONL, CSV, connectors, the demo)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clameur.kit.time import parse_datetime

NETWORKS = (
    "x",
    "facebook",
    "instagram",
    "linkedin",
    "mastodon",
    "bluesky",
    "reddit",
    "youtube",
    "rss",
    "demo",
    "import",
)
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "praise", "purchase_intent", "spam")


class AuthorIn(BaseModel):
    """Who wrote the post."""

    model_config = ConfigDict(extra="ignore")

    handle: str = Field(min_length=1, max_length=200)
    name: str = ""
    followers: int = Field(default=0, ge=0)
    verified: bool = False

    @field_validator("handle")
    @classmethod
    def _strip_at(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not value:
            raise ValueError("author handle is empty")
        return value


class PostIn(BaseModel):
    """One post in the import schema; `id` is the network's own id for the post."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=200)
    network: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=100_000)
    created_at: datetime
    author: AuthorIn | None = None
    lang: str | None = Field(default=None, max_length=8)
    url: str | None = Field(default=None, max_length=1000)
    in_reply_to: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)
    metrics: dict[str, int] = Field(default_factory=dict)
    sentiment: str | None = None
    intents: list[str] = Field(default_factory=list)
    # A direct message to one of the brand's accounts: only the team sees it; it goes to the
    # inbox, never to the listening page or the e-reputation series.
    private: bool = False

    @field_validator("id", "in_reply_to", "conversation_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError("must be a string or an integer")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("network", mode="before")
    @classmethod
    def _network_known(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value == "twitter":
                value = "x"
            if value not in NETWORKS:
                raise ValueError(
                    f"unknown network {value!r} (expected one of {', '.join(NETWORKS)})"
                )
        return value

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value

    @field_validator("created_at", mode="before")
    @classmethod
    def _parse_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_datetime(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            from datetime import UTC

            return datetime.fromtimestamp(value, UTC)
        return value

    @field_validator("author", mode="before")
    @classmethod
    def _author_from_handle(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"handle": value}
        return value

    @field_validator("lang", mode="before")
    @classmethod
    def _lang_lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("sentiment", mode="before")
    @classmethod
    def _sentiment_known(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value.strip().lower() not in SENTIMENTS:
            raise ValueError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
        return value.strip().lower()

    @field_validator("intents", mode="before")
    @classmethod
    def _intents_list(cls, value: Any) -> Any:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = [part for part in value.replace(";", ",").split(",")]
        if not isinstance(value, list):
            raise ValueError("intents must be a list")
        out = []
        for item in value:
            name = str(item).strip().lower().replace(" ", "_")
            if not name:
                continue
            if name not in INTENTS:
                raise ValueError(f"unknown intent {name!r} (expected {', '.join(INTENTS)})")
            out.append(name)
        return out
