"""The inbox's settings pages, for managers: the triage rules (ordered, tried before they are
saved) and the team (how each queue assigns, who is away, each agent's capacity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from clameur.inbox import actions, assignment
from clameur.inbox.rules import (
    RuleSpec,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    move_rule,
    require_manager,
    set_stop,
    try_spec,
    update_rule,
)
from clameur.inbox.triage import HOURS, LEVELS, RuleError
from clameur.kit.errors import ClameurError, NotFound
from clameur.models import NetworkAccount, Queue, Rule, SavedReply, SlaPolicy, User
from clameur.pipeline.schemas import NETWORKS
from clameur.query import QuerySyntaxError, parse
from clameur.web.deps import CurrentWorkspace, Db, Editor
from clameur.web.reads import sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)

# Messages a rule is tried on before it is saved.
TRIAL_SIZE = 1000
# Trial matches shown (all are counted).
TRIAL_SHOWN = 25


def _choices(db: Db, workspace_id: int) -> dict[str, Any]:
    """What the rule form's selects offer."""
    return {
        "queues": list(
            db.scalars(
                select(Queue).where(Queue.workspace_id == workspace_id).order_by(Queue.position)
            )
        ),
        "agents": actions.assignable_users(db),
        "policies": list(
            db.scalars(
                select(SlaPolicy)
                .where(SlaPolicy.workspace_id == workspace_id)
                .order_by(SlaPolicy.name)
            )
        ),
        "templates": list(
            db.scalars(
                select(SavedReply)
                .where(SavedReply.workspace_id == workspace_id)
                .order_by(SavedReply.name, SavedReply.lang)
            )
        ),
        "accounts": list(
            db.scalars(
                select(NetworkAccount)
                .where(NetworkAccount.workspace_id == workspace_id)
                .order_by(NetworkAccount.network, NetworkAccount.handle)
            )
        ),
        "rule_networks": [network for network in NETWORKS if network != "import"],
        "levels": LEVELS,
        "hours_choices": HOURS,
    }


def _number(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise RuleError(f"{value!r} is not a whole number")
    return int(value)


async def _spec(request: Request) -> RuleSpec:
    """The rule described by the submitted form."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    actions: dict[str, Any] = {}
    if text("queue"):
        actions["queue"] = text("queue")
    for key in ("assign", "sla", "acknowledge"):
        number = _number(text(key))
        if number is not None:
            actions[key] = number
    tags = [tag.strip() for tag in text("tags").split(",") if tag.strip()]
    if tags:
        actions["tags"] = tags
    if text("priority"):
        actions["priority"] = text("priority")
    for flag in ("hide", "spam", "approval"):
        if text(flag):
            actions[flag] = True
    return RuleSpec(
        name=text("name"),
        condition=text("condition"),
        min_followers=_number(text("min_followers")),
        network=text("network") or None,
        account_id=_number(text("account_id")),
        hours=text("hours") or "any",
        actions=actions,
        stop=bool(text("stop")),
        active=bool(text("active")),
    )


def _values(rule: Rule | RuleSpec | None) -> dict[str, Any]:
    """The form's fields for a rule (or empty ones for a new rule)."""
    if rule is None:
        return {"name": "", "condition": "", "hours": "any", "actions": {}, "active": True}
    return {
        "name": rule.name,
        "condition": rule.condition,
        "min_followers": rule.min_followers,
        "network": rule.network,
        "account_id": rule.account_id,
        "hours": rule.hours,
        "actions": rule.actions or {},
        "stop": rule.stop,
        "active": rule.active,
    }


def _form_page(
    request: Request,
    db: Db,
    workspace_id: int,
    rule_id: int | None,
    values: dict[str, Any],
    error: RuleError | ClameurError | None = None,
) -> Response:
    syntax = getattr(error, "syntax", None)
    return renderer(request).render(
        request,
        "inbox_rule_form.html",
        status_code=error.status_code if error else 200,
        rule_id=rule_id,
        values=values,
        error=None if syntax else error,
        syntax_error=syntax,
        trial_size=TRIAL_SIZE,
        **_choices(db, workspace_id),
        **sidebar(db, workspace_id),
        section="inbox",
    )


@router.get("/inbox/rules", response_class=HTMLResponse)
def rules_page(request: Request, db: Db, user: Editor, workspace: CurrentWorkspace) -> Response:
    """The rules in the order they run, with what each looks at and does."""
    require_manager(user)
    choices = _choices(db, workspace.id)
    return renderer(request).render(
        request,
        "inbox_rules.html",
        rules=list_rules(db, workspace.id),
        queues=choices["queues"],
        queue_names={queue.slug: queue.name for queue in choices["queues"]},
        agent_names={agent.id: agent.name for agent in choices["agents"]},
        policy_names={policy.id: policy.name for policy in choices["policies"]},
        template_names={template.id: template.name for template in choices["templates"]},
        account_names={
            account.id: f"{account.network} @{account.handle}" for account in choices["accounts"]
        },
        flash=request.query_params.get("done"),
        **sidebar(db, workspace.id),
        section="inbox",
    )


@router.get("/inbox/rules/new", response_class=HTMLResponse)
def new_rule_page(request: Request, db: Db, user: Editor, workspace: CurrentWorkspace) -> Response:
    require_manager(user)
    return _form_page(request, db, workspace.id, None, _values(None))


@router.get("/inbox/rules/{rule_id}", response_class=HTMLResponse)
def edit_rule_page(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, rule_id: int
) -> Response:
    require_manager(user)
    return _form_page(
        request, db, workspace.id, rule_id, _values(get_rule(db, workspace.id, rule_id))
    )


async def _save(
    request: Request, db: Db, user: User, workspace_id: int, rule_id: int | None
) -> Response:
    require_manager(user)
    try:
        spec = await _spec(request)
    except RuleError as error:
        form = await request.form()
        return _form_page(request, db, workspace_id, rule_id, _raw(form), error)
    try:
        if rule_id is None:
            create_rule(db, workspace_id, spec, user)
        else:
            update_rule(db, get_rule(db, workspace_id, rule_id), spec, user)
    except RuleError as error:
        db.rollback()
        return _form_page(request, db, workspace_id, rule_id, _values(spec), error)
    return RedirectResponse(
        f"/inbox/rules?done={'created' if rule_id is None else 'updated'}", status_code=303
    )


def _raw(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.get(key) for key in form}
    values["actions"] = {}
    return values


@router.post("/inbox/rules", response_class=HTMLResponse)
async def create_rule_form(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace
) -> Response:
    return await _save(request, db, user, workspace.id, None)


@router.post("/inbox/rules/try", response_class=HTMLResponse)
async def try_rule_form(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace
) -> Response:
    """What the rule in the form would have done on the last messages; nothing is saved."""
    require_manager(user)
    error: ClameurError | None = None
    result = None
    try:
        spec = await _spec(request)
        result = try_spec(db, workspace.id, spec, last=TRIAL_SIZE)
    except RuleError as refused:
        error = refused
    choices = _choices(db, workspace.id)
    return renderer(request).render(
        request,
        "partials/inbox_rule_trial.html",
        trial=result,
        shown=result.hits[:TRIAL_SHOWN] if result else [],
        error=error,
        syntax_error=getattr(error, "syntax", None),
        source=(await request.form()).get("condition") or "",
        queues=choices["queues"],
        queue_names={queue.slug: queue.name for queue in choices["queues"]},
        agent_names={agent.id: agent.name for agent in choices["agents"]},
        policy_names={policy.id: policy.name for policy in choices["policies"]},
        template_names={template.id: template.name for template in choices["templates"]},
    )


@router.post("/inbox/rules/validate", response_class=HTMLResponse)
def validate_condition(
    request: Request, user: Editor, condition: Annotated[str, Form()] = ""
) -> Response:
    """The live check under the condition: valid, or the error with a caret where it is."""
    syntax_error = None
    if condition.strip():
        try:
            parse(condition)
        except QuerySyntaxError as error:
            syntax_error = error
    return renderer(request).render(
        request,
        "partials/validation.html",
        source=condition,
        syntax_error=syntax_error,
        empty=not condition.strip(),
    )


@router.post("/inbox/rules/{rule_id}", response_class=HTMLResponse)
async def update_rule_form(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, rule_id: int
) -> Response:
    return await _save(request, db, user, workspace.id, rule_id)


@router.post("/inbox/rules/{rule_id}/{change}", response_class=HTMLResponse)
def change_rule(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    rule_id: int,
    change: str,
    stop: Annotated[str, Form()] = "",
) -> Response:
    """Move a rule up or down, switch its "stop here", or delete it."""
    rule = get_rule(db, workspace.id, rule_id)
    if change in ("up", "down"):
        move_rule(db, rule, change, user)
    elif change == "stop":
        set_stop(db, rule, stop == "on", user)
    elif change == "delete":
        delete_rule(db, rule, user)
    else:
        raise NotFound(f"no change {change!r}: use up, down, stop or delete")
    return RedirectResponse(f"/inbox/rules#rule-{rule_id}", status_code=303)


@router.get("/inbox/team", response_class=HTMLResponse)
def team_page(request: Request, db: Db, user: Editor, workspace: CurrentWorkspace) -> Response:
    """How each queue assigns its conversations; the agents, their load, capacity and away."""
    require_manager(user)
    return renderer(request).render(
        request,
        "inbox_team.html",
        queues=list(
            db.scalars(
                select(Queue).where(Queue.workspace_id == workspace.id).order_by(Queue.position)
            )
        ),
        team=assignment.team(db, workspace.id),
        modes=assignment.MODES,
        flash=request.query_params.get("done"),
        **sidebar(db, workspace.id),
        section="inbox",
    )


@router.post("/inbox/team/queues/{queue_id}", response_class=HTMLResponse)
def set_queue_mode(
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    queue_id: int,
    mode: Annotated[str, Form()],
) -> Response:
    queue = db.get(Queue, queue_id)
    if queue is None or queue.workspace_id != workspace.id:
        raise NotFound(f"queue {queue_id} not found")
    assignment.set_queue_assignment(db, queue, mode, user)
    return RedirectResponse("/inbox/team?done=queue", status_code=303)


@router.post("/inbox/team/agents/{agent_id}", response_class=HTMLResponse)
def change_agent(
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    agent_id: int,
    capacity: Annotated[str, Form()] = "",
    away: Annotated[str, Form()] = "",
    reassign_to: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    """Save an agent's capacity and away state, or hand their open conversations on."""
    agent = db.get(User, agent_id)
    if agent is None or not agent.active:
        raise NotFound(f"agent {agent_id} not found")
    if action == "reassign":
        target = int(reassign_to) if reassign_to.isdigit() else None
        moved = assignment.reassign_open(db, workspace.id, agent.id, target, user)
        return RedirectResponse(f"/inbox/team?done=moved-{moved}", status_code=303)
    value = capacity.strip()
    if value and not value.isdigit():
        raise ClameurError(f"{value!r} is not a whole number")
    assignment.set_capacity(db, agent, int(value) if value else None, user)
    assignment.set_away(db, agent, away == "on")
    return RedirectResponse("/inbox/team?done=agent", status_code=303)
