"""Emerging terms: one entry per term, as people write it, and no word beside its phrase."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from builders import BASE_TIME, add_posts, make_record, make_workspace
from clameur.kit.text import fold
from clameur.models import RadarSeries, RadarTerm
from clameur.radar.series import ensure_series, update_series
from clameur.radar.service import emerging_terms, in_their_words
from clameur.radar.terms import written_forms

NOW = BASE_TIME + timedelta(minutes=50)
HOUR = BASE_TIME  # the hour that holds NOW


def _series(session: Session) -> RadarSeries:
    workspace = make_workspace(session)
    return ensure_series(session, workspace.id)["workspace"]


def _count(session: Session, series: RadarSeries, start: datetime, **counts: int) -> None:
    """Hourly term counts as the series stores them (keyword names: spaces as underscores,
    a leading "h_" for a hashtag stored before hashtags were merged with their word)."""
    for name, count in counts.items():
        term = ("#" + name[2:] if name.startswith("h_") else name).replace("_", " ")
        session.add(RadarTerm(series_id=series.id, start=start, term=term, count=count))
    session.flush()


def test_a_term_is_shown_as_it_is_most_often_written_with_its_accents() -> None:
    texts = ["Une belle année !", "cette annee encore", "L'Année du festival"]
    forms = written_forms(texts, {"annee", "festival", "absent"})
    assert forms["annee"].form == "année"
    assert forms["annee"].first == 0
    assert forms["festival"].first == 2
    assert "absent" not in forms


def test_a_term_mostly_written_as_a_hashtag_keeps_its_sign() -> None:
    texts = ["#LueursFest ce soir", "Vive #lueursfest", "le lueursfest commence"]
    assert written_forms(texts, {"lueursfest"})["lueursfest"].form == "#lueursfest"


def test_a_phrase_is_shown_with_the_accents_of_its_words() -> None:
    texts = ["La grande scène ouvre à 18 h", "grande scene pleine", "Grande scène !"]
    assert written_forms(texts, {"grande scene"})["grande scene"].form == "grande scène"


def test_a_hashtag_counted_apart_and_its_word_are_one_rising_term(session: Session) -> None:
    series = _series(session)
    _count(session, series, HOUR, lueursfest=6, h_lueursfest=4)
    terms = emerging_terms(session, series.id, NOW)
    assert [(t.term, t.count) for t in terms] == [("lueursfest", 10)]


def test_the_baseline_of_a_term_counts_its_hashtag_hours_too(session: Session) -> None:
    series = _series(session)
    for day in range(1, 8):
        for hour in range(24):
            _count(session, series, HOUR - timedelta(days=day, hours=hour), h_ouigo=6)
    _count(session, series, HOUR, ouigo=8)
    assert emerging_terms(session, series.id, NOW) == []


def test_a_word_that_rose_with_a_phrase_holding_it_is_left_out(session: Session) -> None:
    series = _series(session)
    _count(session, series, HOUR, grande=10, scene=10, grande_scene=9, navettes=8)
    terms = {t.term for t in emerging_terms(session, series.id, NOW)}
    assert terms == {"grande scene", "navettes"}


def test_a_word_that_rose_well_beyond_its_phrase_stays(session: Session) -> None:
    series = _series(session)
    _count(session, series, HOUR, prix=30, prix_billets=10)
    terms = {t.term for t in emerging_terms(session, series.id, NOW)}
    assert terms == {"prix", "prix billets"}


def test_rising_terms_read_as_written_in_the_posts_with_one_of_them(session: Session) -> None:
    workspace = make_workspace(session)
    records = [
        make_record(
            text="Quelle année pour la grande scène #LueursFest",
            created_at=(BASE_TIME + timedelta(minutes=i)).isoformat(),
        )
        for i in range(6)
    ] + [
        make_record(
            text="Cette annee, la grande scene",
            created_at=(BASE_TIME + timedelta(minutes=10 + i)).isoformat(),
        )
        for i in range(2)
    ]
    add_posts(session, workspace.id, records)
    update_series(session, workspace.id)
    series = ensure_series(session, workspace.id)["workspace"]
    rising = emerging_terms(session, series.id, NOW)
    terms = in_their_words(session, workspace.id, series, rising, HOUR, NOW)
    assert {t.shown for t in terms} == {"année", "grande scène", "#lueursfest"}
    for term in terms:
        assert term.sample is not None
        assert fold(term.shown.lstrip("#")) in fold(term.sample.text)
