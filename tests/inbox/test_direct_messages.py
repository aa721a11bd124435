"""Direct messages: always an inbox conversation of their own thread, never public."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.inbox.outbox import queue_reply
from clameur.kit.errors import ClameurError
from clameur.listening.service import PostFilters, list_posts
from clameur.models import Conversation, ConversationItem, NetworkAccount, Role, User
from clameur.radar.series import update_series


def test_a_direct_message_opens_a_private_conversation_kept_out_of_listening_and_radar(
    session: Session,
) -> None:
    workspace = make_workspace(session)
    session.add(NetworkAccount(workspace_id=workspace.id, network="x", handle="acme"))
    agent = User(email="a@example.com", name="Agent", password_hash="x", role=Role.agent)
    session.add(agent)
    thread = {"network": "x", "private": True, "conversation_id": "dm:42"}
    add_posts(
        session,
        workspace.id,
        [
            make_record(id="m1", text="Bonjour, ma commande n'est pas arrivée", **thread),
            make_record(id="m2", text="Numéro 12345", **thread),
            make_record(id="p1", network="x", text="Belle soirée hier !"),
        ],
    )
    conversations = session.scalars(select(Conversation)).all()
    assert [(c.kind, c.thread_key) for c in conversations] == [("dm", "dm:42")]
    assert len(session.scalars(select(ConversationItem)).all()) == 2
    shown = list_posts(session, workspace.id, PostFilters()).posts
    assert [p.external_id for p in shown] == ["p1"]
    assert update_series(session, workspace.id).posts == 1
    with pytest.raises(ClameurError, match="cannot answer private messages on x"):
        queue_reply(session, conversations[0], agent, "Nous regardons", None)
