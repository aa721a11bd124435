from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from builders import make_record
from clameur.listening.service import create_query
from clameur.models import Author, Match, Post, SavedQuery, Workspace
from clameur.pipeline.ingest import import_file
from clameur.pipeline.reanalyze import reanalyze
from clameur.store.engine import unit_of_work

TWCS = Path(__file__).resolve().parents[3] / "shared" / "data" / "twcs-sample"


def _workspace(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        workspace = Workspace(slug="acme", name="Acme")
        session.add(workspace)
        session.flush()
        return workspace.id


def _write_jsonl(path: Path, records: list[dict | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


def _count(factory: sessionmaker[Session], model) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_importing_the_same_file_twice_stores_each_post_once(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    source = _write_jsonl(tmp_path / "posts.jsonl", [make_record() for _ in range(25)])
    first = import_file(factory, ws, source, "jsonl", tmp_path / "rejects.jsonl", batch_size=10)
    second = import_file(factory, ws, source, "jsonl", tmp_path / "rejects.jsonl", batch_size=10)
    assert (first.imported, first.present) == (25, 0)
    assert (second.imported, second.present) == (0, 25)
    assert _count(factory, Post) == 25


def test_rejected_lines_are_written_with_their_line_number_and_reason(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    source = _write_jsonl(
        tmp_path / "posts.jsonl",
        [
            make_record(),
            "{not json",
            make_record(created_at="yesterday-ish"),
            make_record(network="myspace"),
            make_record(text="   "),
            make_record(),
        ],
    )
    rejects = tmp_path / "rejects.jsonl"
    summary = import_file(factory, ws, source, "jsonl", rejects)
    assert (summary.imported, summary.rejected) == (2, 4)
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [line["line"] for line in lines] == [2, 3, 4, 5]
    assert "invalid JSON" in lines[0]["reason"]
    assert "created_at" in lines[1]["reason"]
    assert "myspace" in lines[2]["reason"]
    assert "text" in lines[3]["reason"]


def test_a_clean_import_leaves_no_rejects_file(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text("stale\n")
    source = _write_jsonl(tmp_path / "posts.jsonl", [make_record()])
    summary = import_file(factory, ws, source, "jsonl", rejects)
    assert summary.rejects_path is None
    assert not rejects.exists()


def test_csv_columns_fold_into_author_and_metrics(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    source = tmp_path / "posts.csv"
    source.write_text(
        "id,network,text,created_at,author,author_name,author_followers,author_verified,"
        "lang,metrics_likes\n"
        'c1,instagram,"Trop bien, le festival !",2026-06-01T10:00:00Z,'
        "@marie,Marie,1200,true,fr,42\n",
        encoding="utf-8",
    )
    summary = import_file(factory, ws, source, "csv", tmp_path / "r.jsonl")
    assert summary.imported == 1
    with unit_of_work(factory) as session:
        post = session.scalars(select(Post)).one()
        assert post.metrics == {"likes": 42}
        assert post.lang == "fr"
        author = session.scalars(select(Author)).one()
        assert (author.handle, author.display_name, author.followers, author.verified) == (
            "marie",
            "Marie",
            1200,
            True,
        )


def test_an_interrupted_import_resumes_to_the_same_final_state(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    records = [make_record(in_reply_to=None) for _ in range(40)]
    full = _write_jsonl(tmp_path / "all.jsonl", records)
    # The first 17 lines made it before the process died mid-file.
    partial = _write_jsonl(tmp_path / "partial.jsonl", records[:17])
    import_file(factory, ws, partial, "jsonl", tmp_path / "r.jsonl", batch_size=5)
    summary = import_file(factory, ws, full, "jsonl", tmp_path / "r.jsonl", batch_size=5)
    assert (summary.imported, summary.present) == (23, 17)
    with unit_of_work(factory) as session:
        ids = sorted(session.scalars(select(Post.external_id)))
    assert ids == sorted(r["id"] for r in records)


def test_new_posts_are_matched_against_saved_queries(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    with unit_of_work(factory) as session:
        query_id = create_query(session, ws, "Refunds", "rembours* OR refund").id
    source = _write_jsonl(
        tmp_path / "posts.jsonl",
        [
            make_record(text="Je veux être remboursé !"),
            make_record(text="Refund please"),
            make_record(text="Super concert"),
        ],
    )
    summary = import_file(factory, ws, source, "jsonl", tmp_path / "r.jsonl")
    assert summary.matches == 2
    with unit_of_work(factory) as session:
        matched = session.scalars(
            select(Post.text)
            .join(Match, Match.post_id == Post.id)
            .where(Match.query_id == query_id)
        ).all()
    assert sorted(matched) == ["Je veux être remboursé !", "Refund please"]


def test_twcs_import_threads_replies_into_conversations(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    source = TWCS / "twcs_head_complete_threads.csv"
    if not source.exists():
        pytest.skip(f"the twcs sample is not beside the checkout ({source})")
    ws = _workspace(factory)
    summary = import_file(factory, ws, source, "twcs", tmp_path / "r.jsonl")
    assert summary.imported == 3555
    assert summary.rejected == 0
    with unit_of_work(factory) as session:
        reply = session.scalars(select(Post).where(Post.external_id == "19")).one()
        parent = session.get(Post, reply.parent_id)
        assert parent is not None and parent.external_id == "20"
        assert reply.conversation_key == parent.conversation_key == "19"
        threads = session.scalar(select(func.count(func.distinct(Post.conversation_key))))
        assert threads == 1042
        orphans = session.scalar(
            select(func.count(Post.id)).where(
                Post.in_reply_to.is_not(None), Post.parent_id.is_(None)
            )
        )
        assert orphans == 0


def test_a_post_the_database_refuses_is_rejected_alone(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    # PostgreSQL's JSONB refuses NUL characters; SQLite stores them.
    records = [make_record(), make_record(extra="bad\u0000byte"), make_record()]
    source = _write_jsonl(tmp_path / "posts.jsonl", records)
    rejects = tmp_path / "rejects.jsonl"
    summary = import_file(factory, ws, source, "jsonl", rejects)
    dialect = factory.kw["bind"].dialect.name
    if dialect == "postgresql":
        assert (summary.imported, summary.rejected) == (2, 1)
        entry = json.loads(rejects.read_text().splitlines()[0])
        assert entry["line"] == 2 and "refused by the database" in entry["reason"]
    else:
        assert (summary.imported, summary.rejected) == (3, 0)
    assert _count(factory, Post) == summary.imported


def _state(factory: sessionmaker[Session], slug: str) -> dict[str, object]:
    """What an import left, by external id (ids of posts differ between workspaces)."""
    with unit_of_work(factory) as session:
        ws = session.scalars(select(Workspace.id).where(Workspace.slug == slug)).one()
        posts = session.scalars(select(Post).where(Post.workspace_id == ws)).all()
        external = {post.id: post.external_id for post in posts}
        matched = session.execute(
            select(Match.post_id, Match.query_id)
            .join(Post, Post.id == Match.post_id)
            .where(Post.workspace_id == ws)
        ).all()
        names = dict(session.execute(select(SavedQuery.id, SavedQuery.name)).all())
        return {
            "posts": {
                post.external_id: (
                    post.lang,
                    post.sentiment,
                    tuple(post.intents),
                    post.hostile,
                    post.influence,
                    external.get(post.duplicate_of_id),
                    post.duplicate_count,
                    sorted(post.enrichments),
                )
                for post in posts
            },
            "matches": sorted(
                (external[post_id], names[query_id]) for post_id, query_id in matched
            ),
            "counts": sorted(
                session.execute(
                    select(SavedQuery.name, SavedQuery.match_count).where(
                        SavedQuery.workspace_id == ws
                    )
                ).all()
            ),
        }


def test_a_deferred_analysis_completed_by_reanalyze_equals_a_full_import(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    wave = "Toujours pas remboursés après l'annulation, honteux ! #LueursDEte"
    records = [
        make_record(id="a1", text="Navette en retard de deux heures, c'est inadmissible"),
        make_record(id="a2", text=wave),
        make_record(id="a3", text="Quel concert magnifique hier soir, merci ! #LueursDEte"),
        make_record(id="a4", text=wave + " !!"),
        make_record(id="a5", text="Where can I buy tickets for next summer?", lang="en"),
        make_record(id="a6", text=wave, sentiment="neutral"),
    ]
    source = _write_jsonl(tmp_path / "posts.jsonl", records)
    for slug in ("full", "deferred"):
        with unit_of_work(factory) as session:
            workspace = Workspace(slug=slug, name=slug)
            session.add(workspace)
            session.flush()
            create_query(session, workspace.id, "Angry", "sentiment:negative")
            create_query(session, workspace.id, "Complaints", "intent:complaint")
            create_query(session, workspace.id, "Brand", "lueursdete")
    with unit_of_work(factory) as session:
        full_id, deferred_id = (
            session.scalars(select(Workspace.id).where(Workspace.slug == slug)).one()
            for slug in ("full", "deferred")
        )
    # The same posts cannot live in two workspaces: the deferred one gets its own ids.
    other = _write_jsonl(
        tmp_path / "other.jsonl",
        [{**record, "id": "d" + record["id"]} for record in records],
    )
    import_file(factory, full_id, source, "jsonl", tmp_path / "r1.jsonl", batch_size=2)
    deferred = import_file(
        factory,
        deferred_id,
        other,
        "jsonl",
        tmp_path / "r2.jsonl",
        batch_size=2,
        analysis="language",
    )
    assert deferred.imported == len(records)
    before = _state(factory, "deferred")
    assert {post[1] for key, post in before["posts"].items() if key != "da6"} == {None}
    assert before["posts"]["da6"][1] == "neutral"  # what the source said is kept at once
    assert dict(before["counts"])["Brand"] == 4
    reanalyze(factory, deferred_id, chunk=2)
    after = _state(factory, "deferred")
    full = _state(factory, "full")
    assert {"d" + key: value[:5] for key, value in full["posts"].items()} == {
        key: value[:5] for key, value in after["posts"].items()
    }
    assert {key: value[5:] for key, value in after["posts"].items()} == {
        "d" + key: (("d" + value[5]) if value[5] else None, *value[6:])
        for key, value in full["posts"].items()
    }
    assert after["matches"] == sorted(("d" + post, name) for post, name in full["matches"])
    assert after["counts"] == full["counts"]
    assert full["posts"]["a4"][5] == "a2" and full["posts"]["a2"][6] == 3


def test_an_unknown_analysis_mode_is_refused(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    source = _write_jsonl(tmp_path / "posts.jsonl", [make_record()])
    with pytest.raises(ValueError, match="unknown analysis mode 'some'"):
        import_file(factory, ws, source, "jsonl", tmp_path / "r.jsonl", analysis="some")
    assert _count(factory, Post) == 0


def test_an_import_leaves_the_garbage_collector_as_it_found_it(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ws = _workspace(factory)
    source = _write_jsonl(tmp_path / "posts.jsonl", [make_record() for _ in range(5)])
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    summary = import_file(factory, ws, source, "jsonl", tmp_path / "rejects.jsonl", batch_size=2)
    assert summary.imported == 5
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)
