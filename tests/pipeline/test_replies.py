from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.models import Post


def _parent_of(session: Session, external_id: str) -> int | None:
    return session.scalar(select(Post.parent_id).where(Post.external_id == external_id))


def _id_of(session: Session, external_id: str) -> int | None:
    return session.scalar(select(Post.id).where(Post.external_id == external_id))


def test_a_reply_finds_its_parent_in_the_same_batch_or_stored_before(session: Session) -> None:
    workspace = make_workspace(session)
    add_posts(session, workspace.id, [make_record(id="a1")])
    add_posts(
        session,
        workspace.id,
        [
            make_record(id="a2", in_reply_to="a1"),
            make_record(id="b1"),
            make_record(id="b2", in_reply_to="b1"),
            make_record(id="c2", in_reply_to="nowhere"),
        ],
    )
    assert _parent_of(session, "a2") == _id_of(session, "a1")
    assert _parent_of(session, "b2") == _id_of(session, "b1")
    assert _parent_of(session, "c2") is None


def test_a_reply_stored_before_its_parent_is_linked_when_the_parent_arrives(
    session: Session,
) -> None:
    workspace = make_workspace(session)
    add_posts(
        session,
        workspace.id,
        [
            make_record(id="r1", in_reply_to="p1"),
            make_record(id="r2", in_reply_to="p1"),
            make_record(id="m1", network="mastodon", in_reply_to="p1"),
        ],
    )
    assert _parent_of(session, "r1") is None
    add_posts(session, workspace.id, [make_record(id="p1")])
    parent = _id_of(session, "p1")
    assert parent is not None
    assert _parent_of(session, "r1") == parent
    assert _parent_of(session, "r2") == parent
    # Same id on another network: another post, not this one's parent.
    assert _parent_of(session, "m1") is None
