"""E-reputation series, kept up to date as posts arrive.

The radar reads each workspace's posts once, in id order, from where it stopped (a cursor in
`radar_progress`), and adds them to its series: the whole workspace, the brand (posts matched by
a query that is not a competitor's), each competitor, and each saved query. A series counts, per
bucket (5 minutes, hours, days) and per network and language: volume, negative volume, reach
(the audience of the authors) and a sketch of the unique authors. Terms are counted per hour for
the emerging-terms view. Nothing rescans the posts table: each post is read once, and a crash
before the commit leaves the cursor where it was, so the next pass counts the posts once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from clameur.kit import hll
from clameur.kit.time import utcnow
from clameur.models import (
    Author,
    Match,
    Post,
    RadarBucket,
    RadarPoint,
    RadarProgress,
    RadarSeries,
    RadarTerm,
    SavedQuery,
)
from clameur.radar.terms import post_terms
from clameur.store.bulk import insert_rows
from clameur.store.dialect import insert_for

BUCKET = timedelta(minutes=5)
GRAIN_SPANS = {"m5": BUCKET, "h1": timedelta(hours=1), "d1": timedelta(days=1)}
UNKNOWN_LANG = "und"
# Terms are counted for these kinds of series (competitor and brand series would repeat them).
TERM_KINDS = ("workspace", "query")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(moment: datetime, grain: str = "m5") -> datetime:
    """The start of the bucket of `grain` that holds `moment` (UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    span = GRAIN_SPANS[grain]
    return _EPOCH + ((moment - _EPOCH) // span) * span


@dataclass(slots=True)
class _Cell:
    volume: int = 0
    negative: int = 0
    reach: int = 0
    authors: set[int] = field(default_factory=set)


@dataclass(slots=True)
class UpdateResult:
    """What one pass of the series update did."""

    posts: int = 0
    buckets: int = 0
    terms: int = 0
    series: int = 0


def ensure_series(session: Session, workspace_id: int) -> dict[str, RadarSeries]:
    """The workspace's series by key, creating those its queries and competitors need."""
    existing = {
        s.key: s
        for s in session.scalars(
            select(RadarSeries).where(RadarSeries.workspace_id == workspace_id)
        )
    }
    wanted: dict[str, tuple[int | None, int | None]] = {"workspace": (None, None)}
    queries = session.scalars(select(SavedQuery).where(SavedQuery.workspace_id == workspace_id))
    has_brand = False
    for query in queries:
        wanted[f"query:{query.id}"] = (query.id, None)
        if query.competitor_id is not None:
            wanted[f"competitor:{query.competitor_id}"] = (None, query.competitor_id)
        else:
            has_brand = True
    if has_brand:
        wanted["brand"] = (None, None)
    missing = [
        {"workspace_id": workspace_id, "key": key, "query_id": query, "competitor_id": competitor}
        for key, (query, competitor) in wanted.items()
        if key not in existing
    ]
    if not missing:
        return existing
    # A page and the background runner may both find a series missing: whoever inserts it
    # second does nothing, and both read the same rows.
    session.flush()
    insert = insert_for(session)
    session.execute(insert(RadarSeries).values(missing).on_conflict_do_nothing())
    return {
        s.key: s
        for s in session.scalars(
            select(RadarSeries).where(RadarSeries.workspace_id == workspace_id)
        )
    }


def lock_progress(session: Session, workspace_id: int) -> RadarProgress:
    """The workspace's cursor, locked on PostgreSQL so that one runner at a time counts,
    scores or runs the alert rules of the workspace (the others wait, then find it done)."""
    statement = (
        select(RadarProgress).where(RadarProgress.workspace_id == workspace_id).with_for_update()
    )
    progress = session.scalars(statement).first()
    if progress is None:
        progress = RadarProgress(workspace_id=workspace_id, last_post_id=0)
        session.add(progress)
        session.flush()
    return progress


def update_series(session: Session, workspace_id: int, limit: int = 5000) -> UpdateResult:
    """Add the workspace's posts not counted yet (at most `limit`) to its series."""
    progress = lock_progress(session, workspace_id)
    rows = session.execute(
        select(
            Post.id,
            Post.created_at,
            Post.network,
            Post.lang,
            Post.sentiment,
            Post.author_id,
            Author.followers,
            Post.text,
        )
        .outerjoin(Author, Author.id == Post.author_id)
        .where(
            Post.workspace_id == workspace_id,
            Post.id > progress.last_post_id,
            # Direct messages are not e-reputation: nobody else sees them.
            Post.private.is_(False),
        )
        .order_by(Post.id)
        .limit(limit)
    ).all()
    result = UpdateResult()
    if not rows:
        return result
    series = ensure_series(session, workspace_id)
    matched = _matches(session, workspace_id, rows)
    query_competitor = dict(
        session.execute(
            select(SavedQuery.id, SavedQuery.competitor_id).where(
                SavedQuery.workspace_id == workspace_id
            )
        ).all()
    )
    cells: dict[tuple[int, str, datetime, str, str], _Cell] = defaultdict(_Cell)
    terms: Counter[tuple[int, datetime, str]] = Counter()
    ids = {key: row.id for key, row in series.items()}
    term_series = {ids[key] for key in ids if key.split(":")[0] in TERM_KINDS}
    phrase_series = ids["workspace"]
    for post_id, created_at, network, lang, sentiment, author_id, followers, text in rows:
        keys = ["workspace"]
        competitors: set[int] = set()
        brand = False
        for query_id in matched.get(post_id, ()):
            keys.append(f"query:{query_id}")
            competitor_id = query_competitor.get(query_id)
            if competitor_id is None:
                brand = True
            else:
                competitors.add(competitor_id)
        if brand:
            keys.append("brand")
        keys.extend(f"competitor:{c}" for c in competitors)
        negative = 1 if sentiment == "negative" else 0
        language = lang or UNKNOWN_LANG
        starts = [(grain, bucket_start(created_at, grain)) for grain in GRAIN_SPANS]
        words, phrases = post_terms(text)
        hour = starts[1][1]
        reach = followers or 0
        for key in keys:
            target = ids.get(key)
            if target is None:
                continue
            for grain, start in starts:
                cell = cells[(target, grain, start, network, language)]
                cell.volume += 1
                cell.negative += negative
                cell.reach += reach
                # 5-minute buckets keep no author sketch: unique authors are read per hour.
                if author_id is not None and grain != "m5":
                    cell.authors.add(author_id)
            if target in term_series:
                for word in words:
                    terms[(target, hour, word)] += 1
                # Two-word phrases for the whole workspace only: they double the rows.
                if target == phrase_series:
                    for phrase in phrases:
                        terms[(target, hour, phrase)] += 1
    result.buckets = _write_buckets(session, cells)
    result.terms = _write_terms(session, terms)
    result.posts = len(rows)
    result.series = len({key[0] for key in cells})
    progress.last_post_id = rows[-1][0]
    progress.updated_at = utcnow()
    session.flush()
    return result


def _matches(
    session: Session, workspace_id: int, rows: Sequence[Sequence[object]]
) -> dict[int, list[int]]:
    """The saved queries each of these posts matched."""
    ids = [row[0] for row in rows]
    times = [row[1] for row in rows]
    query_ids = list(
        session.scalars(select(SavedQuery.id).where(SavedQuery.workspace_id == workspace_id))
    )
    found: dict[int, list[int]] = defaultdict(list)
    if not query_ids:
        return found
    wanted = set(ids)
    # Matches are keyed (query, time, post): a range on both reads only this batch's rows.
    statement = select(Match.query_id, Match.post_id).where(
        Match.query_id.in_(query_ids),
        Match.created_at >= min(times),  # type: ignore[type-var]
        Match.created_at <= max(times),  # type: ignore[type-var]
        Match.post_id >= min(ids),  # type: ignore[type-var]
        Match.post_id <= max(ids),  # type: ignore[type-var]
    )
    for query_id, post_id in session.execute(statement):
        if post_id in wanted:
            found[post_id].append(query_id)
    return found


BUCKET_KEY = ("series_id", "grain", "start", "network", "lang")
COUNTERS = ("volume", "negative", "reach")


def _write_buckets(
    session: Session, cells: dict[tuple[int, str, datetime, str, str], _Cell]
) -> int:
    """Add the cells to the stored buckets: counters are added in the database; the hourly and
    daily author sketches are read and merged here (5-minute buckets keep none)."""
    if not cells:
        return 0
    table = RadarBucket.__table__
    counted = [
        (*key, cell.volume, cell.negative, cell.reach)
        for key, cell in cells.items()
        if key[1] == "m5"
    ]
    insert_rows(
        session,
        table,  # type: ignore[arg-type]
        (*BUCKET_KEY, *COUNTERS),
        counted,
        conflict=BUCKET_KEY,
        add=COUNTERS,
    )
    sketched = {key: cell for key, cell in cells.items() if key[1] != "m5"}
    by_grain: dict[str, set[datetime]] = defaultdict(set)
    for _series_id, grain, start, _network, _lang in sketched:
        by_grain[grain].add(start)
    wanted_series = {key[0] for key in sketched}
    stored: dict[tuple[int, str, datetime, str, str], bytes | None] = {}
    for grain, starts in by_grain.items():
        for chunk in _chunks(sorted(starts), 500):
            statement = select(
                RadarBucket.series_id,
                RadarBucket.grain,
                RadarBucket.start,
                RadarBucket.network,
                RadarBucket.lang,
                RadarBucket.authors,
            ).where(
                RadarBucket.series_id.in_(wanted_series),
                RadarBucket.grain == grain,
                RadarBucket.start.in_(chunk),
                RadarBucket.authors.is_not(None),
            )
            for row in session.execute(statement):
                stored[(row[0], row[1], row[2], row[3], row[4])] = row[5]
    merged = [
        (
            *key,
            cell.volume,
            cell.negative,
            cell.reach,
            hll.merge(hll.sketch(cell.authors) if cell.authors else None, stored.get(key)),
        )
        for key, cell in sketched.items()
    ]
    insert_rows(
        session,
        table,  # type: ignore[arg-type]
        (*BUCKET_KEY, *COUNTERS, "authors"),
        merged,
        conflict=BUCKET_KEY,
        update=("authors",),
        add=COUNTERS,
    )
    return len(cells)


def _write_terms(session: Session, terms: Counter[tuple[int, datetime, str]]) -> int:
    """Add the term counts of the hour to the stored ones (in the database)."""
    if not terms:
        return 0
    insert_rows(
        session,
        RadarTerm.__table__,  # type: ignore[arg-type]
        ("series_id", "start", "term", "count"),
        [(*key, count) for key, count in terms.items()],
        conflict=("series_id", "start", "term"),
        add=("count",),
    )
    return len(terms)


def _chunks(items: Sequence[datetime], size: int) -> Iterable[Sequence[datetime]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def rebuild(session: Session, workspace_id: int) -> None:
    """Forget the workspace's series so that the next passes count every post again (after a
    reanalysis changed sentiments, or a query was edited)."""
    series_ids = select(RadarSeries.id).where(RadarSeries.workspace_id == workspace_id)
    for table in (RadarBucket, RadarPoint, RadarTerm):
        session.execute(delete(table).where(table.series_id.in_(series_ids)))
    for series in session.scalars(
        select(RadarSeries).where(RadarSeries.workspace_id == workspace_id)
    ):
        series.volume_state = series.negative_state = None
        series.scored_until = None
    session.execute(delete(RadarProgress).where(RadarProgress.workspace_id == workspace_id))
    session.flush()


def prune(session: Session, workspace_id: int, now: datetime, keep_days: int) -> int:
    """Drop 5-minute buckets and readings older than `keep_days` (hours and days stay)."""
    limit = now - timedelta(days=keep_days)
    series_ids = select(RadarSeries.id).where(RadarSeries.workspace_id == workspace_id)
    removed = session.execute(
        delete(RadarBucket).where(
            and_(
                RadarBucket.series_id.in_(series_ids),
                RadarBucket.grain == "m5",
                RadarBucket.start < limit,
            )
        )
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        delete(RadarPoint).where(RadarPoint.series_id.in_(series_ids), RadarPoint.start < limit)
    )
    return int(removed or 0)
