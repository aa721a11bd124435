from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import add_posts, make_record, make_workspace
from clameur.models import Post
from clameur.store import dialect
from clameur.store.dialect import clauses_filter, full_text_filter


def _texts(session: Session, condition) -> set[str]:  # type: ignore[no-untyped-def]
    return set(session.scalars(select(Post.text).where(condition)))


def test_full_text_search_ignores_accents_and_case(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(session, ws.id, [make_record(text="Un CAFÉ froid"), make_record(text="Du thé")])
    found = _texts(session, full_text_filter(session, Post.id, "cafe"))
    assert found == {"Un CAFÉ froid"}


def test_full_text_search_requires_every_word(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(
        session,
        ws.id,
        [make_record(text="navette en retard"), make_record(text="navette à l'heure")],
    )
    found = _texts(session, full_text_filter(session, Post.id, "navette retard"))
    assert found == {"navette en retard"}


def test_full_text_search_finds_a_word_after_a_french_elision(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(session, ws.id, [make_record(text="L'hôtel était sale"), make_record(text="Motel")])
    assert _texts(session, full_text_filter(session, Post.id, "hotel")) == {"L'hôtel était sale"}


def test_clause_filter_is_an_or_of_ands_with_prefixes(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(
        session,
        ws.id,
        [
            make_record(text="Remboursement refusé"),
            make_record(text="je veux être remboursée"),
            make_record(text="navette bondée"),
            make_record(text="rien à voir"),
        ],
    )
    condition = clauses_filter(session, Post.id, [[("rembours", True)], [("navette", False)]])
    assert _texts(session, condition) == {
        "Remboursement refusé",
        "je veux être remboursée",
        "navette bondée",
    }


def test_punctuation_only_search_adds_no_filter(session: Session) -> None:
    assert full_text_filter(session, Post.id, "?!") is None


def test_full_text_search_folds_ligatures_like_the_query_language(session: Session) -> None:
    ws = make_workspace(session)
    add_posts(session, ws.id, [make_record(text="Mon cœur bat"), make_record(text="Große Straße")])
    assert _texts(session, full_text_filter(session, Post.id, "coeur")) == {"Mon cœur bat"}
    assert _texts(session, full_text_filter(session, Post.id, "cœur")) == {"Mon cœur bat"}
    assert _texts(session, full_text_filter(session, Post.id, "strasse")) == {"Große Straße"}


def test_every_sqlite_strategy_finds_the_same_posts(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Few hits (ids given), a word in a large share of the posts (probe each post), others
    (read the hits first): three plans, one answer, in the listing's order too."""
    if session.get_bind().dialect.name != "sqlite":
        return
    ws = make_workspace(session)
    records = [
        make_record(text=f"navette {n}" if n % 3 == 0 else f"concert {n}") for n in range(60)
    ]
    add_posts(session, ws.id, records)
    expected = {record["text"] for record in records if record["text"].startswith("navette")}
    plans = {}
    for name, sparse, share in (("ids", 1000, 0.1), ("probe", 2, 0.1), ("read", 2, 0.9)):
        monkeypatch.setattr(dialect, "SPARSE_HITS", sparse)
        monkeypatch.setattr(dialect, "DENSE_SHARE", share)
        condition = full_text_filter(session, Post.id, "navette")
        plans[name] = str(condition.compile(compile_kwargs={"literal_binds": False}))
        assert _texts(session, condition) == expected, name
        newest = session.scalars(
            select(Post.text).where(condition).order_by(Post.created_at.desc()).limit(5)
        ).all()
        assert newest == [f"navette {n}" for n in (57, 54, 51, 48, 45)], name
    assert "EXISTS" in plans["probe"] and "EXISTS" not in plans["read"]
    assert "posts_fts" in plans["read"] and "posts_fts" not in plans["ids"]
