"""Crisis mode: on and off by a manager, what it covers, and the post-mortem it leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.kit.errors import Conflict, NotFound
from clameur.listening.service import create_query, load_query_index
from clameur.models import Post
from clameur.radar.crisis import (
    active_crisis,
    covers,
    crisis_flag,
    end_crisis,
    report_markdown,
    start_crisis,
)
from clameur.radar.series import update_series


def test_crisis_mode_is_on_until_a_manager_ends_it_and_then_leaves_a_post_mortem(
    session: Session,
) -> None:
    workspace = make_workspace(session)
    records = [
        make_record(
            created_at=(BASE_TIME + timedelta(minutes=10 * i)).isoformat(),
            text="Vol annulé et aucun remboursement, honteux",
            sentiment="negative",
        )
        for i in range(12)
    ]
    add_posts(session, workspace.id, records)
    update_series(session, workspace.id)
    crisis = start_crisis(session, workspace.id, None, "Vols annulés")
    crisis.started_at = BASE_TIME
    assert crisis_flag(session, workspace.id)
    with pytest.raises(Conflict):
        start_crisis(session, workspace.id, None, "again")
    ended = end_crisis(session, workspace.id, None, now=BASE_TIME + timedelta(hours=2))
    assert active_crisis(session, workspace.id) is None
    assert not crisis_flag(session, workspace.id)
    report = ended.report
    assert report is not None
    assert report["volume"] == 12 and report["negative_share"] == 100.0
    assert report["duration_minutes"] == 120
    assert report["peak"]["volume"] == 6
    assert len(report["said"]) == 10
    markdown = report_markdown(ended, report)
    assert markdown.startswith(f"# Post-mortem: crisis #{ended.id}")
    assert "| bucket | posts | negative | negative share |" in markdown
    with pytest.raises(NotFound):
        end_crisis(session, workspace.id, None)


def test_a_crisis_on_a_query_covers_only_the_conversations_it_matches(session: Session) -> None:
    workspace = make_workspace(session)
    query = create_query(session, workspace.id, "Vols", "vol")
    add_posts(
        session,
        workspace.id,
        [make_record(text="Mon vol est annulé"), make_record(text="Belle journée")],
        load_query_index(session, workspace.id),
    )
    flight, other = session.query(Post).order_by(Post.id).all()
    crisis = start_crisis(session, workspace.id, None, query_id=query.id)
    assert covers(session, crisis, [flight.id])
    assert not covers(session, crisis, [other.id])
    assert not covers(session, None, [flight.id])


def test_during_a_crisis_covered_conversations_rise_and_agents_replies_wait_for_approval(
    session: Session,
) -> None:
    from sqlalchemy import select

    from clameur.inbox.outbox import queue_reply
    from clameur.models import Conversation, NetworkAccount, Role, User

    workspace = make_workspace(session)
    session.add(NetworkAccount(workspace_id=workspace.id, network="x", handle="acme"))
    agent = User(email="agent@example.com", name="Agent", password_hash="x", role=Role.agent)
    session.add(agent)
    query = create_query(session, workspace.id, "Brand", "acme", inbox=True)
    index = load_query_index(session, workspace.id)
    add_posts(session, workspace.id, [make_record(text="@acme où est ma commande ?")], index)
    calm = session.scalars(select(Conversation)).one()
    calm_priority = calm.priority
    reply = queue_reply(session, calm, agent, "Nous regardons", None)
    assert reply.status == "queued"
    reply.status = "sent"
    session.flush()

    start_crisis(session, workspace.id, None, "Commandes perdues", query_id=query.id)
    add_posts(session, workspace.id, [make_record(text="@acme toujours rien, honteux")], index)
    hot = session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()
    assert hot is not None and hot.id != calm.id
    assert hot.priority_reasons[0][0] == "crisis"
    assert hot.priority >= calm_priority
    held = queue_reply(session, hot, agent, "Nous sommes désolés", None)
    assert held.status == "awaiting_approval"
