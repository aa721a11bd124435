"""The shapes the JSON API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


class AuthorRead(BaseModel):
    """Who wrote a post."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    network: str
    handle: str
    display_name: str
    followers: int
    verified: bool


class PostRead(BaseModel):
    """A post as heard on a network."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    network: str
    external_id: str
    url: str | None
    text: str
    lang: str | None
    created_at: datetime
    ingested_at: datetime
    author: AuthorRead | None
    metrics: dict[str, Any]
    sentiment: str | None
    sentiment_score: float | None = Field(description="The model's score for its label")
    intents: list[str]
    hostile: bool | None = Field(description="Insults, threats or hate; null when not analysed")
    duplicate_of_id: int | None = Field(description="For a near-duplicate, its original's id")
    duplicate_count: int = Field(description="For an original, the size of its group (1: alone)")
    influence: float | None = Field(description="The author's influence, 0 to 100")
    in_reply_to: str | None
    conversation_key: str | None


class PostList(BaseModel):
    """A page of posts, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[PostRead]
    next_cursor: str | None


class CorrectionCreate(BaseModel):
    """A person's correction of what the analysis said about a post."""

    field: Literal["sentiment", "intents", "hostile"]
    value: StrictStr | StrictBool | list[StrictStr] = Field(
        description=(
            "sentiment: negative, neutral or positive; intents: a list of complaint, question, "
            "praise, purchase_intent, spam; hostile: true or false"
        )
    )


class SavedQueryCreate(BaseModel):
    """A new saved query."""

    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=20_000)
    description: str = Field(default="", max_length=5_000)
    competitor_id: int | None = None


class SavedQueryUpdate(SavedQueryCreate):
    """A saved query's new version (every field is replaced)."""


class SavedQueryRead(BaseModel):
    """A saved query, its backfill state and how many posts it matched."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    query: str
    description: str
    competitor_id: int | None
    active: bool
    revision: int
    backfilled_revision: int
    up_to_date: bool
    matches: int
    created_at: datetime
    updated_at: datetime


class QueryValidate(BaseModel):
    """A query to check."""

    query: str = Field(max_length=20_000)


class QueryValidation(BaseModel):
    """Whether a query parses, and where it goes wrong if not."""

    valid: bool
    message: str | None = None
    position: int | None = None


class ErrorRead(BaseModel):
    """An error: what went wrong, and where in the query for syntax errors."""

    detail: str
    position: int | None = None


class Health(BaseModel):
    """The application is up and its database answers."""

    status: str
    database: str | None


class CrisisRead(BaseModel):
    """Whether crisis mode is on: publishing holds promotional posts while it is."""

    active: bool
    crisis_id: int | None = None
    since: datetime | None = None
    reason: str = ""
    query_id: int | None = None


class AlertRead(BaseModel):
    """An alert of the radar."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: int | None
    series_id: int
    metric: str
    status: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    value: float
    expected: float
    high: float
    score: float
    peak_value: float
    updates: int


class PublicationCreate(BaseModel):
    """A post to publish on one or more of the workspace's accounts."""

    body: str = Field(min_length=1, max_length=63206)
    account_ids: list[int] = Field(min_length=1)
    # When to publish (UTC when no offset is given); now when absent.
    scheduled_at: datetime | None = None
    promotional: bool = False
    media_urls: list[str] = Field(default_factory=list)
    # A description (alt text) of each image, in the order of `media_urls` (shorter, or "",
    # where none); at most 1,000 characters each.
    media_alts: list[str] = Field(default_factory=list)


class PublicationRead(BaseModel):
    """A post for one account, on its way through the outbox or published."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_key: str
    account_id: int
    network: str
    body: str
    media_urls: list[str]
    media_alts: list[str]
    promotional: bool
    status: str
    scheduled_at: datetime
    attempts: int
    error: str | None
    external_id: str | None
    url: str | None
    sent_at: datetime | None
