"""The triage rules as managers edit them: listed in order, created, changed, moved, deleted,
and tried on recent messages before they are saved. Every change is in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.inbox.routing import audit
from clameur.inbox.triage import LEVELS, RuleError, Trial, check_rule, trial
from clameur.kit.errors import Forbidden, NotFound
from clameur.models import NetworkAccount, Queue, Rule, SavedReply, SlaPolicy, User
from clameur.pipeline.schemas import NETWORKS


@dataclass(slots=True)
class RuleSpec:
    """A rule as the form describes it (validated by `check_spec`)."""

    name: str
    condition: str = ""
    min_followers: int | None = None
    network: str | None = None
    account_id: int | None = None
    hours: str = "any"
    actions: dict[str, Any] = field(default_factory=dict)
    stop: bool = False
    active: bool = True


def require_manager(user: User) -> None:
    """Rules change what the whole team sees: managers and administrators only."""
    if not user.is_manager:
        raise Forbidden("Only a manager can change the triage rules.")


def list_rules(session: Session, workspace_id: int) -> list[Rule]:
    """The workspace's rules in the order they run."""
    return list(
        session.scalars(
            select(Rule).where(Rule.workspace_id == workspace_id).order_by(Rule.position, Rule.id)
        )
    )


def get_rule(session: Session, workspace_id: int, rule_id: int) -> Rule:
    rule = session.get(Rule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise NotFound(f"rule {rule_id} not found")
    return rule


def check_spec(session: Session, workspace_id: int, spec: RuleSpec) -> None:
    """Raise RuleError naming what is wrong: the condition (with its position), or an action
    pointing at something the workspace does not have."""
    if not spec.name.strip():
        raise RuleError("Give the rule a name.")
    check_rule(spec.condition, spec.hours, spec.actions)
    if spec.min_followers is not None and spec.min_followers < 0:
        raise RuleError("The number of followers cannot be negative.")
    if spec.network and spec.network not in NETWORKS:
        raise RuleError(f"unknown network {spec.network!r}")
    if spec.account_id is not None:
        account = session.get(NetworkAccount, spec.account_id)
        if account is None or account.workspace_id != workspace_id:
            raise RuleError(f"no account {spec.account_id} in this workspace")
    actions = spec.actions
    if "queue" in actions and not session.scalar(
        select(Queue.id).where(Queue.workspace_id == workspace_id, Queue.slug == actions["queue"])
    ):
        raise RuleError(f"no queue {actions['queue']!r}")
    if "assign" in actions:
        assignee = session.get(User, int(actions["assign"]))
        if assignee is None or not assignee.active:
            raise RuleError(f"no active user {actions['assign']}")
        if not assignee.can_edit:
            raise RuleError(
                f"{assignee.name} has read-only access and cannot be given conversations: "
                "choose an agent, a manager or an administrator."
            )
    if "sla" in actions:
        policy = session.get(SlaPolicy, int(actions["sla"]))
        if policy is None or policy.workspace_id != workspace_id:
            raise RuleError(f"no service-level policy {actions['sla']}")
    if "acknowledge" in actions:
        template = session.get(SavedReply, int(actions["acknowledge"]))
        if template is None or template.workspace_id != workspace_id:
            raise RuleError(f"no saved reply {actions['acknowledge']}")
    if actions.get("priority") not in (None, *LEVELS):
        raise RuleError(f"priority must be one of {', '.join(LEVELS)}")


def _apply(rule: Rule, spec: RuleSpec) -> None:
    rule.name = spec.name.strip()
    rule.condition = spec.condition.strip()
    rule.min_followers = spec.min_followers
    rule.network = spec.network or None
    rule.account_id = spec.account_id
    rule.hours = spec.hours
    rule.actions = dict(spec.actions)
    rule.stop = spec.stop
    rule.active = spec.active


def create_rule(session: Session, workspace_id: int, spec: RuleSpec, by: User) -> Rule:
    """A new rule, last in the order."""
    require_manager(by)
    check_spec(session, workspace_id, spec)
    last = session.scalar(select(func.max(Rule.position)).where(Rule.workspace_id == workspace_id))
    rule = Rule(workspace_id=workspace_id, position=(last if last is not None else -1) + 1)
    _apply(rule, spec)
    session.add(rule)
    session.flush()
    audit(session, workspace_id, None, "rule_created", by.id, rule=rule.id, name=rule.name)
    return rule


def update_rule(session: Session, rule: Rule, spec: RuleSpec, by: User) -> Rule:
    require_manager(by)
    check_spec(session, rule.workspace_id, spec)
    _apply(rule, spec)
    session.flush()
    audit(session, rule.workspace_id, None, "rule_changed", by.id, rule=rule.id, name=rule.name)
    return rule


def delete_rule(session: Session, rule: Rule, by: User) -> None:
    require_manager(by)
    workspace_id, name, rule_id = rule.workspace_id, rule.name, rule.id
    session.delete(rule)
    session.flush()
    _renumber(list_rules(session, workspace_id))
    audit(session, workspace_id, None, "rule_deleted", by.id, rule=rule_id, name=name)


def _renumber(rules: list[Rule]) -> None:
    for position, each in enumerate(rules):
        each.position = position


def move_rule(session: Session, rule: Rule, direction: str, by: User) -> None:
    """One step up (runs earlier) or down."""
    require_manager(by)
    rules = list_rules(session, rule.workspace_id)
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    _renumber(rules)
    session.flush()
    audit(
        session,
        rule.workspace_id,
        None,
        "rule_moved",
        by.id,
        rule=rule.id,
        position=rule.position,
    )


def set_stop(session: Session, rule: Rule, stop: bool, by: User) -> None:
    """ "Stop here": when the rule holds, the rules after it do not run."""
    require_manager(by)
    rule.stop = stop
    session.flush()
    audit(session, rule.workspace_id, None, "rule_changed", by.id, rule=rule.id, stop=stop)


def try_spec(session: Session, workspace_id: int, spec: RuleSpec, last: int = 1000) -> Trial:
    """What the rule would have done on the last `last` customer messages (nothing saved)."""
    check_spec(session, workspace_id, RuleSpec(**{**_fields(spec), "name": spec.name or "?"}))
    return trial(
        session,
        workspace_id,
        spec.condition,
        spec.actions,
        spec.hours,
        spec.min_followers,
        spec.network,
        spec.account_id,
        last=last,
    )


def _fields(spec: RuleSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in RuleSpec.__dataclass_fields__}
