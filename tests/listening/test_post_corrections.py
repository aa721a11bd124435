from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.kit.errors import ClameurError
from clameur.listening.corrections import correct_post, training_corrections
from clameur.listening.service import create_query
from clameur.models import Correction, Match, Post, User


def _user(session: Session) -> User:
    user = User(email="ann@example.com", name="Ann", password_hash="x")
    session.add(user)
    session.flush()
    return user


def test_a_correction_is_applied_and_recorded_with_who(session: Session) -> None:
    ws = make_workspace(session)
    user = _user(session)
    add_posts(session, ws.id, [make_record(text="Concert correct", sentiment="positive")])
    post = session.scalars(select(Post)).one()
    correct_post(session, ws.id, post.id, user.id, "sentiment", "negative")
    assert post.sentiment == "negative"
    assert post.enrichments["sentiment"]["version"] == "correction"
    correction = session.scalars(select(Correction)).one()
    assert (correction.user_id, correction.previous, correction.value) == (
        user.id,
        "positive",
        "negative",
    )


def test_a_correction_rematches_queries_on_sentiment(session: Session) -> None:
    ws = make_workspace(session)
    saved = create_query(session, ws.id, "Angry", "sentiment:negative")
    add_posts(session, ws.id, [make_record(text="Bof", sentiment="neutral")])
    post = session.scalars(select(Post)).one()
    correct_post(session, ws.id, post.id, None, "sentiment", "negative")
    assert session.get(Match, (saved.id, post.created_at, post.id)) is not None
    assert saved.match_count == 1


def test_an_unknown_label_is_refused_with_a_clear_message(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(session, ws.id, [make_record()])
    post = session.scalars(select(Post)).one()
    with pytest.raises(ClameurError, match="sentiment must be one of"):
        correct_post(session, ws.id, post.id, None, "sentiment", "furious")


def test_the_latest_corrections_feed_training(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(session, ws.id, [make_record(text="Pas mal", lang="fr")])
    post = session.scalars(select(Post)).one()
    correct_post(session, ws.id, post.id, None, "sentiment", "negative")
    correct_post(session, ws.id, post.id, None, "sentiment", "positive")
    correct_post(session, ws.id, post.id, None, "intents", ["praise"])
    data = training_corrections(session)
    assert data["sentiment"] == [("Pas mal", "fr", "positive")]
    assert data["intents"] == [("Pas mal", "fr", ["praise"])]
