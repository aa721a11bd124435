"""Triage: ordered rules written in the query language, the priority of each conversation, and
its service-level due times.

Rules run, in order, on each new customer message of a conversation that is open (a new one, or
one the message reopened). A rule's condition is a query (`intent:complaint OR sentiment:negative`,
`author:@vip`, `lang:en`), plus optional conditions on followers, network, the workspace's account
the message mentions or answers, and business hours; its actions
route to a queue or an agent, tag, set the priority, apply a service-level policy, hide, mark as
spam, require approval for replies, or acknowledge with a saved reply. "Stop here" ends the list.
A rule can be tried on the last items before it is saved: `try_rule` says what it would have done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.inbox.assignment import auto_assign
from clameur.inbox.calendar import BusinessCalendar
from clameur.inbox.compose import queue_acknowledgement
from clameur.inbox.priority import level_of, score_priority
from clameur.inbox.routing import InboxScope, audit, folded_handle
from clameur.kit.errors import ClameurError
from clameur.kit.time import utcnow
from clameur.models import (
    Author,
    Conversation,
    ConversationItem,
    CrisisMode,
    NetworkAccount,
    Post,
    Queue,
    Rule,
    SlaPolicy,
    User,
    Workspace,
)
from clameur.query import PostDoc, Query, parse
from clameur.query.errors import QuerySyntaxError
from clameur.radar.crisis import PRIORITY_BOOST, active_crisis, covers

DEFAULT_QUEUES = (("care", "Care"), ("engagement", "Engagement"), ("moderation", "Moderation"))
# Minutes of business time, per priority level.
DEFAULT_TARGETS = {
    "urgent": {"first_response": 30, "resolution": 240},
    "high": {"first_response": 60, "resolution": 480},
    "normal": {"first_response": 240, "resolution": 1440},
    "low": {"first_response": 480, "resolution": 2880},
}
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Spam to moderation",
        "condition": "intent:spam",
        "actions": {"queue": "moderation", "spam": True},
        "stop": True,
    },
    {
        "name": "Complaints and questions to care",
        "condition": "intent:complaint OR intent:question OR sentiment:negative",
        "actions": {"queue": "care"},
        "stop": True,
    },
    {"name": "Everything else to engagement", "condition": "", "actions": {"queue": "engagement"}},
)
ACTION_KEYS = frozenset(
    ("queue", "assign", "tags", "priority", "sla", "hide", "spam", "approval", "acknowledge")
)
HOURS = ("any", "open", "closed")
LEVELS = ("urgent", "high", "normal", "low")
_LEVEL_SCORE = {"urgent": 90, "high": 65, "normal": 40, "low": 10}
# Messages older than this when they reach the inbox (an import of history) get no automatic
# acknowledgement: thanking someone days later helps nobody.
ACKNOWLEDGE_WITHIN = timedelta(hours=24)


class RuleError(ClameurError):
    """A rule that cannot be saved as written; `syntax` is the condition's syntax error (with
    its position), if that is the problem."""

    def __init__(self, message: str, syntax: QuerySyntaxError | None = None) -> None:
        super().__init__(message)
        self.syntax = syntax


def ensure_inbox_defaults(session: Session, workspace_id: int) -> None:
    """The three queues, a standard service-level policy and the default rules, if missing."""
    existing = set(session.scalars(select(Queue.slug).where(Queue.workspace_id == workspace_id)))
    for position, (slug, name) in enumerate(DEFAULT_QUEUES):
        if slug not in existing:
            session.add(Queue(workspace_id=workspace_id, slug=slug, name=name, position=position))
    if not session.scalar(select(SlaPolicy.id).where(SlaPolicy.workspace_id == workspace_id)):
        workspace = session.get(Workspace, workspace_id)
        zone = workspace.timezone if workspace else "Europe/Paris"
        calendar = BusinessCalendar.from_settings({"timezone": zone})
        session.add(
            SlaPolicy(
                workspace_id=workspace_id,
                name="Standard",
                targets=DEFAULT_TARGETS,
                calendar=calendar.to_settings(),
            )
        )
    if not session.scalar(select(Rule.id).where(Rule.workspace_id == workspace_id)):
        for position, spec in enumerate(DEFAULT_RULES):
            session.add(Rule(workspace_id=workspace_id, position=position, **spec))
    session.flush()


def check_rule(condition: str, hours: str, actions: dict[str, Any]) -> Query | None:
    """The parsed condition; a malformed rule raises RuleError naming the problem."""
    unknown = set(actions) - ACTION_KEYS
    if unknown:
        raise RuleError(f"unknown action: {', '.join(sorted(unknown))}")
    if hours not in HOURS:
        raise RuleError(f"hours must be one of {', '.join(HOURS)}")
    if actions.get("priority") not in (None, *LEVELS):
        raise RuleError(f"priority must be one of {', '.join(LEVELS)}")
    if not condition.strip():
        return None
    try:
        return parse(condition)
    except QuerySyntaxError as error:  # it names the position
        raise RuleError(str(error), error) from None


@dataclass(slots=True)
class Outcome:
    """What the rules did (or would do) to one conversation."""

    rules: list[str] = field(default_factory=list)
    actions: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Triage:
    """The rules of a workspace, compiled once, with its queues and calendar."""

    rules: list[tuple[Rule, Query | None]]
    queues: dict[str, int]
    default_policy: SlaPolicy | None
    policies: dict[int, SlaPolicy]
    # The workspace's accounts, for rules on the account a message mentions or answers.
    accounts: dict[int, tuple[str, str]] = field(default_factory=dict)
    queue_rows: dict[int, Queue] = field(default_factory=dict)
    # The crisis going on, if any: the conversations it covers rise in priority.
    crisis: CrisisMode | None = None

    @classmethod
    def load(cls, session: Session, workspace_id: int) -> Triage:
        rules = session.scalars(
            select(Rule)
            .where(Rule.workspace_id == workspace_id, Rule.active.is_(True))
            .order_by(Rule.position, Rule.id)
        ).all()
        compiled = [(rule, check_rule(rule.condition, rule.hours, rule.actions)) for rule in rules]
        queue_rows = {
            queue.id: queue
            for queue in session.scalars(select(Queue).where(Queue.workspace_id == workspace_id))
        }
        queues = {queue.slug: queue.id for queue in queue_rows.values()}
        accounts = {
            account_id: (network, folded_handle(handle))
            for account_id, network, handle in session.execute(
                select(NetworkAccount.id, NetworkAccount.network, NetworkAccount.handle).where(
                    NetworkAccount.workspace_id == workspace_id
                )
            )
        }
        policies = {
            policy.id: policy
            for policy in session.scalars(
                select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id)
            )
        }
        default = min(policies.values(), key=lambda policy: policy.id) if policies else None
        return cls(
            compiled,
            queues,
            default,
            policies,
            accounts,
            queue_rows,
            active_crisis(session, workspace_id),
        )

    def needs_parent(self, rules: Sequence[tuple[Rule, Query | None]] | None = None) -> bool:
        """Whether a rule looks at the account a message answers (a look-up per message)."""
        return any(rule.account_id for rule, _query in (self.rules if rules is None else rules))

    def concerns(self, account_id: int, post: Post, answered: str | None) -> bool:
        """Whether the message mentions the account, or answers one of its posts."""
        if account_id not in self.accounts:
            return False
        network, handle = self.accounts[account_id]
        if post.network != network:
            return False
        if answered is not None and folded_handle(answered) == handle:
            return True
        scope = InboxScope(accounts={network: {handle, handle.split("@", 1)[0]}})
        return scope.mentions_brand(network, post.text)

    def decide(
        self,
        post: Post,
        rules: Sequence[tuple[Rule, Query | None]] | None = None,
        answered: str | None = None,
    ) -> Outcome:
        """The actions the rules take for this message (no change made); `answered` is the
        handle of the author of the post it answers, when a rule needs it."""
        outcome = Outcome()
        doc = PostDoc.from_fields(
            post.text,
            lang=post.lang,
            network=post.network,
            author=post.author.handle if post.author else None,
            sentiment=post.sentiment,
            intents=tuple(post.intents or ()),
        )
        followers = post.author.followers if post.author else 0
        for rule, query in self.rules if rules is None else rules:
            if query is not None and not query.matches(doc):
                continue
            if rule.min_followers is not None and followers < rule.min_followers:
                continue
            if rule.network and post.network != rule.network:
                continue
            if rule.account_id is not None and not self.concerns(rule.account_id, post, answered):
                continue
            if rule.hours != "any":
                is_open = self.calendar_for_policy(None).is_open(post.created_at)
                if is_open != (rule.hours == "open"):
                    continue
            outcome.rules.append(rule.name)
            for key, value in rule.actions.items():
                if key == "tags":
                    outcome.actions.setdefault("tags", [])
                    outcome.actions["tags"] += [
                        t for t in value if t not in outcome.actions["tags"]
                    ]
                else:
                    outcome.actions.setdefault(key, value)  # the first rule to decide wins
            if rule.stop:
                break
        return outcome

    def calendar_for_policy(self, policy_id: int | None) -> BusinessCalendar:
        policy = self.policies.get(policy_id or -1) or self.default_policy
        if policy is None:
            return BusinessCalendar.always_open()
        return BusinessCalendar.from_settings(policy.calendar or {})

    def apply(self, session: Session, conversation: Conversation, post: Post) -> Outcome:
        """Run the rules for a new customer message and set priority and due times."""
        answered = answered_handles(session, [post]).get(post.id) if self.needs_parent() else None
        outcome = self.decide(post, answered=answered)
        actions = outcome.actions
        changes: dict[str, Any] = {}
        if "queue" in actions and actions["queue"] in self.queues:
            if conversation.queue_id != self.queues[actions["queue"]]:
                conversation.queue_id = self.queues[actions["queue"]]
                changes["queue"] = actions["queue"]
        if "assign" in actions and conversation.assignee_id is None:
            conversation.assignee_id = int(actions["assign"])
            changes["assignee"] = conversation.assignee_id
        if actions.get("tags"):
            tags = list(conversation.tags or [])
            added = [tag for tag in actions["tags"] if tag not in tags]
            if added:
                conversation.tags = tags + added
                changes["tags"] = added
        if "sla" in actions and int(actions["sla"]) in self.policies:
            conversation.sla_policy_id = int(actions["sla"])
            changes["sla"] = conversation.sla_policy_id
        for flag, column in (("hide", "hidden"), ("spam", "spam"), ("approval", "needs_approval")):
            if actions.get(flag) and not getattr(conversation, column):
                setattr(conversation, column, True)
                changes[column] = True
        if changes:
            audit(
                session,
                conversation.workspace_id,
                conversation.id,
                "triaged",
                at=post.created_at,
                rules=outcome.rules,
                **changes,
            )
        refresh_priority(
            session,
            conversation,
            post,
            forced=actions.get("priority"),
            crisis=covers(session, self.crisis, [post.id]),
        )
        refresh_due_times(conversation, self.calendar_for_policy(conversation.sla_policy_id), self)
        if not (conversation.spam or conversation.hidden):
            queue = self.queue_rows.get(conversation.queue_id or -1)
            if queue is not None and conversation.assignee_id is None:
                auto_assign(session, conversation, queue)
            if (
                actions.get("acknowledge")
                and conversation.first_response_at is None
                and post.created_at >= utcnow() - ACKNOWLEDGE_WITHIN
            ):
                queue_acknowledgement(session, conversation, int(actions["acknowledge"]))
        return outcome


def refresh_priority(
    session: Session,
    conversation: Conversation,
    post: Post,
    forced: str | None = None,
    now: datetime | None = None,
    crisis: bool = False,
) -> None:
    """The conversation's priority from its latest customer message, with the reasons; a
    conversation covered by crisis mode rises by `PRIORITY_BOOST`."""
    now = now or max(utcnow(), post.created_at)
    metrics = post.metrics or {}
    engagement = sum(int(value) for value in metrics.values() if isinstance(value, int | float))
    waiting = now - conversation.waiting_since if conversation.waiting_since else timedelta(0)
    priority = score_priority(
        sentiment=post.sentiment,
        intents=tuple(post.intents or ()),
        influence=post.influence,
        followers=post.author.followers if post.author else 0,
        engagement=engagement,
        age=max(timedelta(0), now - post.created_at),
        waiting=max(timedelta(0), waiting),
    )
    score, level, reasons = priority.score, priority.level, list(priority.reasons)
    if crisis:
        score = min(100, score + PRIORITY_BOOST)
        level = level_of(score)
        reasons.insert(0, ("crisis", {}))
    if forced in LEVELS:
        score, level = max(score, _LEVEL_SCORE[forced]), forced
        reasons.insert(0, ("rule", {"level": forced}))
    conversation.priority = int(score)
    conversation.priority_level = level
    conversation.priority_reasons = [[code, values] for code, values in reasons]


def refresh_due_times(
    conversation: Conversation, calendar: BusinessCalendar, triage: Triage | None = None
) -> None:
    """First-response and resolution due times from the policy's targets, in business time."""
    policy = None
    if triage is not None:
        policy = triage.policies.get(conversation.sla_policy_id or -1) or triage.default_policy
    targets = (policy.targets if policy else None) or DEFAULT_TARGETS
    target = targets.get(conversation.priority_level) or targets.get("normal") or {}
    if conversation.waiting_since is not None and target.get("first_response"):
        conversation.first_response_due = calendar.add_business_time(
            conversation.waiting_since, timedelta(minutes=int(target["first_response"]))
        )
    else:
        conversation.first_response_due = None
    if conversation.first_inbound_at is not None and target.get("resolution"):
        conversation.resolution_due = calendar.add_business_time(
            conversation.first_inbound_at, timedelta(minutes=int(target["resolution"]))
        )


def answered_handles(session: Session, posts: Sequence[Post]) -> dict[int, str]:
    """For each post that answers another, the handle of the author it answers (by post id)."""
    parents = {(post.network, post.in_reply_to) for post in posts if post.in_reply_to}
    if not parents:
        return {}
    handles: dict[tuple[str, str], str] = {}
    for network, external_id, handle in session.execute(
        select(Post.network, Post.external_id, Author.handle)
        .join(Author, Author.id == Post.author_id)
        .where(Post.external_id.in_([external_id for _network, external_id in parents]))
    ):
        handles[(network, external_id)] = handle
    return {
        post.id: handles[(post.network, post.in_reply_to)]
        for post in posts
        if post.in_reply_to and (post.network, post.in_reply_to) in handles
    }


@dataclass(slots=True)
class TrialHit:
    """A message the rule being tried would have acted on, and what it would have done."""

    conversation_id: int
    post: Post
    outcome: Outcome


@dataclass(slots=True)
class Trial:
    """What a rule would have done on the last messages: how many were tried, which matched."""

    tried: int
    hits: list[TrialHit]


def trial(
    session: Session,
    workspace_id: int,
    condition: str,
    actions: dict[str, Any],
    hours: str = "any",
    min_followers: int | None = None,
    network: str | None = None,
    account_id: int | None = None,
    last: int = 1000,
) -> Trial:
    """Run a rule (not saved yet) on the last `last` customer messages, changing nothing."""
    query = check_rule(condition, hours, actions)
    rule = Rule(
        name="(trial)",
        condition=condition,
        hours=hours,
        min_followers=min_followers,
        network=network or None,
        account_id=account_id,
        actions=actions,
        stop=True,
    )
    triage = Triage.load(session, workspace_id)
    rows = session.execute(
        select(ConversationItem.conversation_id, Post)
        .join(Post, Post.id == ConversationItem.post_id)
        .join(Conversation, Conversation.id == ConversationItem.conversation_id)
        .where(Conversation.workspace_id == workspace_id, ConversationItem.inbound.is_(True))
        .order_by(ConversationItem.created_at.desc(), ConversationItem.id.desc())
        .limit(last)
    ).all()
    answered = answered_handles(session, [post for _id, post in rows]) if account_id else {}
    hits = []
    for conversation_id, post in rows:
        outcome = triage.decide(post, rules=[(rule, query)], answered=answered.get(post.id))
        if outcome.rules:
            hits.append(TrialHit(conversation_id, post, outcome))
    return Trial(len(rows), hits)


def try_rule(
    session: Session,
    workspace_id: int,
    condition: str,
    actions: dict[str, Any],
    hours: str = "any",
    min_followers: int | None = None,
    last: int = 1000,
) -> list[tuple[int, Outcome]]:
    """What a rule (not saved yet) would have done on the last `last` customer messages."""
    tried = trial(session, workspace_id, condition, actions, hours, min_followers, last=last)
    return [(hit.conversation_id, hit.outcome) for hit in tried.hits]


def agents_by_load(session: Session, workspace_id: int) -> list[tuple[int, int]]:
    """Active agents with their count of open conversations, least loaded first."""
    loads: dict[int, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.status.in_(("open", "pending")),
                Conversation.assignee_id.is_not(None),
            )
            .group_by(Conversation.assignee_id)
        ).all()
    )
    users = session.scalars(select(User.id).where(User.active.is_(True))).all()
    return sorted(((user, int(loads.get(user, 0))) for user in users), key=lambda x: (x[1], x[0]))
