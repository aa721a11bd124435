"""Internal notes: a colleague @mentioned in a note is told under the bell, once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.inbox.actions import add_note
from clameur.listening.service import create_query, load_query_index
from clameur.models import Conversation, Notification, Role, User


def test_a_mentioned_colleague_is_notified_and_the_author_is_not(session: Session) -> None:
    workspace = make_workspace(session)
    yanis = User(email="yanis@example.com", name="Yanis Martin", password_hash="x", role=Role.agent)
    camille = User(
        email="camille@example.com", name="Camille", password_hash="x", role=Role.manager
    )
    session.add_all([yanis, camille])
    create_query(session, workspace.id, "Brand", "acme", inbox=True)
    add_posts(
        session,
        workspace.id,
        [make_record(text="acme où est ma commande ?")],
        load_query_index(session, workspace.id),
    )
    conversation = session.scalars(select(Conversation)).one()

    note = add_note(
        session, conversation, "@camille peux-tu valider ? @yanis je m'en occupe", yanis
    )

    told = session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind) for n in told] == [(camille.id, "inbox.mention")]
    assert told[0].link == f"/inbox?c={conversation.id}" and told[0].key == f"note:{note.id}"
