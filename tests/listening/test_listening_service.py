from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.kit.errors import Conflict
from clameur.listening.service import (
    PostFilters,
    create_query,
    list_posts,
    load_query_index,
    update_query,
)
from clameur.query import QuerySyntaxError


def test_a_malformed_saved_query_is_refused_with_its_position(session: Session) -> None:
    ws = make_workspace(session)
    with pytest.raises(QuerySyntaxError) as caught:
        create_query(session, ws.id, "Broken", "(festival OR fête")
    assert caught.value.position >= 1


def test_two_saved_queries_cannot_share_a_name(session: Session) -> None:
    ws = make_workspace(session)
    create_query(session, ws.id, "Brand", "lueurs")
    with pytest.raises(Conflict):
        create_query(session, ws.id, "Brand", "autre")


def test_editing_the_text_of_a_query_bumps_its_revision(session: Session) -> None:
    ws = make_workspace(session)
    saved = create_query(session, ws.id, "Brand", "lueurs")
    update_query(session, ws.id, saved.id, "Brand", "lueurs OR #lueursfest")
    assert saved.revision == 2
    update_query(session, ws.id, saved.id, "Brand renamed", "lueurs OR #lueursfest")
    assert saved.revision == 2


def test_posts_are_listed_newest_first_with_a_cursor_that_neither_skips_nor_repeats(
    session: Session,
) -> None:
    ws = make_workspace(session)
    records = [
        make_record(id=f"r{i}", created_at=(BASE_TIME + timedelta(minutes=i // 3)).isoformat())
        for i in range(95)
    ]
    add_posts(session, ws.id, records)
    seen: list[str] = []
    cursor = None
    while True:
        page = list_posts(session, ws.id, PostFilters(), cursor, limit=20)
        seen.extend(p.external_id for p in page.posts)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 95 and len(set(seen)) == 95
    stamps = [r["created_at"] for r in sorted(records, key=lambda r: r["id"])]
    assert stamps  # records are there
    by_id = {r["id"]: r["created_at"] for r in records}
    ordered = [by_id[s] for s in seen]
    assert ordered == sorted(ordered, reverse=True)


def test_listing_filters_by_network_and_language(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(
        session,
        ws.id,
        [
            make_record(network="x", lang="fr"),
            make_record(network="instagram", lang="fr"),
            make_record(network="instagram", lang="en"),
        ],
    )
    page = list_posts(session, ws.id, PostFilters(networks=["instagram"], langs=["fr"]))
    assert [(p.network, p.lang) for p in page.posts] == [("instagram", "fr")]


def test_a_saved_query_lists_only_its_matches(session: Session) -> None:
    ws = make_workspace(session)
    saved = create_query(session, ws.id, "Food", "nourriture OR food")
    session.flush()
    index = load_query_index(session, ws.id)
    add_posts(
        session,
        ws.id,
        [make_record(text="La nourriture est froide"), make_record(text="Super concert")],
        index,
    )
    page = list_posts(session, ws.id, PostFilters(query_id=saved.id))
    assert [p.text for p in page.posts] == ["La nourriture est froide"]


def test_an_ad_hoc_query_is_checked_by_the_matcher_after_the_text_prefilter(
    session: Session,
) -> None:
    ws = make_workspace(session)
    add_posts(
        session,
        ws.id,
        [
            make_record(text="#LueursFest c'était génial", lang="fr"),
            make_record(text="lueurs fest was great", lang="en"),
            make_record(text="Rien à voir", lang="fr"),
        ],
    )
    page = list_posts(session, ws.id, PostFilters(query_text="#lueursfest"))
    assert [p.text for p in page.posts] == ["#LueursFest c'était génial"]
    page = list_posts(session, ws.id, PostFilters(query_text="lueurs* AND lang:en"))
    assert [p.text for p in page.posts] == ["lueurs fest was great"]
