"""The demo workspace: a fictional French festival, its team, saved queries and a week of posts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clameur.connectors.demo.generator import DemoStream
from clameur.connectors.demo.workspace import DEMO_USERS, DEMO_WORKSPACE
from clameur.inbox.triage import ensure_inbox_defaults
from clameur.kit.time import utcnow
from clameur.listening.service import create_query, list_queries, load_query_index
from clameur.models import (
    Competitor,
    Post,
    Publication,
    SavedQuery,
    SavedReply,
    User,
    Workspace,
)
from clameur.nlp.analysis import Analyzer
from clameur.pipeline.ingest import validate_record
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import run_batch
from clameur.publishing.service import compose, publishing_accounts
from clameur.radar.service import list_rules, save_rule
from clameur.store.engine import unit_of_work
from clameur.workspaces.service import add_account, add_user, create_workspace


@dataclass(slots=True)
class DemoLoad:
    """What loading the demo created (zero when it was already there)."""

    workspace_id: int
    users: int = 0
    queries: int = 0
    posts: int = 0


# Reply templates of the demo's care team; {customer}, {agent} and {brand} are filled in.
DEMO_SAVED_REPLIES = (
    {
        "name": "Remboursement en cours",
        "lang": "fr",
        "body": "Bonjour {customer}, nous sommes désolés. Votre remboursement est en cours de "
        "traitement : comptez 5 jours ouvrés. Écrivez-nous en privé avec votre numéro de "
        "commande si besoin. {agent}, pour {brand}",
    },
    {
        "name": "Navettes",
        "lang": "fr",
        "body": "Bonjour {customer}, merci pour votre patience : des navettes supplémentaires "
        "partent toutes les 15 minutes depuis la gare. {agent}, pour {brand}",
    },
    {
        "name": "Refund in progress",
        "lang": "en",
        "body": "Hi {customer}, we're sorry. Your refund is being processed: allow 5 working "
        "days. DM us your order number if needed. {agent}, for {brand}",
    },
)


# The demo team's publishing calendar: (days from now, hour, networks, promotional, by, text).
# The one due now goes out as soon as the demo runs; Yanis's waits for a manager.
DEMO_PUBLICATIONS: tuple[tuple[int, int, tuple[str, ...], bool, str, str], ...] = (
    (
        0,
        -1,
        ("mastodon", "bluesky"),
        False,
        "camille@clameur.local",
        "Navettes : départs toutes les 15 minutes depuis la gare jusqu'à 2 h du matin. #LueursFest",
    ),
    (
        1,
        10,
        ("x", "facebook", "linkedin"),
        False,
        "camille@clameur.local",
        "Programme de samedi : ouverture des portes à 16 h, premier concert à 17 h 30 sur la "
        "scène des Pins. #LueursFest",
    ),
    (
        2,
        18,
        ("x", "mastodon", "bluesky"),
        True,
        "camille@clameur.local",
        "Dernières places pour le pass 3 jours : -20 % jusqu'à dimanche minuit ! #LueursFest",
    ),
    (
        3,
        12,
        ("x", "facebook"),
        False,
        "yanis@clameur.local",
        "Objets trouvés : passez au stand accueil près de l'entrée nord, ouvert de 10 h à 20 h.",
    ),
)


def _demo_publications(session: Session, workspace_id: int, now: datetime) -> None:
    """Fill the publishing calendar, once."""
    if session.scalar(select(Publication.id).where(Publication.workspace_id == workspace_id)):
        return
    accounts = {a.network: a.id for a in publishing_accounts(session, workspace_id, True)}
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for days, hour, networks, promotional, email, text in DEMO_PUBLICATIONS:
        author = session.scalars(select(User).where(User.email == email)).one()
        when = now if hour < 0 else midnight + timedelta(days=days, hours=hour)
        ids = [accounts[n] for n in networks if n in accounts]
        compose(
            session,
            workspace_id,
            author,
            text,
            ids,
            when,
            promotional,
            include_unconnected=True,
            now=now,
        )


# The radar's rules of the demo: the detector on every post, and a plain rule on complaints.
DEMO_ALERT_RULES: list[dict[str, Any]] = [
    {
        "name": "Pic de mentions",
        "kind": "smart",
        "metric": "volume",
        "sensitivity": 0.5,
        "min_volume": 5,
        "cooldown_minutes": 120,
    },
    {
        "name": "Plaintes en hausse",
        "query": "Lueurs d'Été — mentions",
        "kind": "negative_share",
        "threshold": 45,
        "window_minutes": 60,
        "min_volume": 20,
        "cooldown_minutes": 120,
    },
]


def ensure_demo_workspace(session: Session) -> tuple[Workspace, int, int]:
    """Create the demo workspace, its accounts, users and saved queries if missing."""
    spec = DEMO_WORKSPACE
    workspace = session.scalar(select(Workspace).where(Workspace.slug == spec["slug"]))
    if workspace is None:
        workspace = create_workspace(
            session, spec["slug"], spec["name"], list(spec["competitors"]), spec["timezone"]
        )
    for account in spec.get("accounts", []):
        add_account(
            session,
            workspace,
            account["network"],
            account["handle"],
            account.get("display_name", ""),
        )
    users = 0
    for person in DEMO_USERS:
        if session.scalar(select(User.id).where(User.email == person["email"])) is None:
            add_user(session, person["email"], person["name"], person["password"], person["role"])
            users += 1
    competitors = {
        c.name: c.id
        for c in session.scalars(select(Competitor).where(Competitor.workspace_id == workspace.id))
    }
    queries = 0
    for saved in spec["saved_queries"]:
        exists = session.scalar(
            select(SavedQuery.id).where(
                SavedQuery.workspace_id == workspace.id, SavedQuery.name == saved["name"]
            )
        )
        if exists is None:
            create_query(
                session,
                workspace.id,
                saved["name"],
                saved["query"],
                saved.get("description", ""),
                competitors.get(saved.get("competitor") or ""),
            )
            queries += 1
    ensure_inbox_defaults(session, workspace.id)
    if not list_rules(session, workspace.id):
        names = {q.name: q.id for q in list_queries(session, workspace.id)}
        for rule in DEMO_ALERT_RULES:
            values = dict(rule)
            values["query_id"] = names.get(str(values.pop("query", "")))
            save_rule(session, workspace.id, values)
    for template in DEMO_SAVED_REPLIES:
        found = session.scalar(
            select(SavedReply.id).where(
                SavedReply.workspace_id == workspace.id,
                SavedReply.name == template["name"],
                SavedReply.lang == template["lang"],
            )
        )
        if found is None:
            session.add(SavedReply(workspace_id=workspace.id, **template))
    _demo_publications(session, workspace.id, utcnow())
    return workspace, users, queries


def load_demo(
    factory: sessionmaker[Session],
    history: int = 3000,
    seed: int = 2017,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoLoad:
    """Load the demo workspace and a week of calm history; running it again adds nothing."""
    with unit_of_work(factory) as session:
        workspace, users, queries = ensure_demo_workspace(session)
        result = DemoLoad(workspace.id, users, queries)
        has_posts = session.scalar(
            select(func.count(Post.id)).where(Post.workspace_id == workspace.id)
        )
    if has_posts:
        return result
    records = DemoStream(seed=seed).history(history, end=now or utcnow())
    with unit_of_work(factory) as session:
        index = load_query_index(session, workspace.id)
    analyzer = Analyzer()
    for start in range(0, len(records), 500):
        chunk = records[start : start + 500]
        posts = [p for p in (validate_record(r) for r in chunk) if isinstance(p, PostIn)]
        with unit_of_work(factory) as session:
            result.posts += run_batch(session, workspace.id, posts, index, chunk, analyzer).imported
        if on_progress:
            on_progress(min(start + 500, len(records)), len(records))
    return result
