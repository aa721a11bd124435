"""The inbox page: queues and filters, the list of conversations, one conversation with its
customer; live updates, bulk actions, who else is there."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from clameur.inbox import actions, notifications
from clameur.inbox.actions import InboxFilter, NotAssignable
from clameur.inbox.assignment import set_away
from clameur.inbox.customers import get_customer, merge_customers, merge_suggestions
from clameur.inbox.outbox import (
    LENGTH_LIMITS,
    ReplyCollision,
    approve_reply,
    discard_reply,
    fill_reply_template,
    queue_reply,
)
from clameur.inbox.priority import Priority, explain
from clameur.inbox.suggestions import suggest_replies
from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.time import utcnow
from clameur.models import (
    Conversation,
    Customer,
    Notification,
    Queue,
    Reply,
    SavedQuery,
    SavedReply,
    User,
)
from clameur.models.inbox import STATUSES
from clameur.radar.crisis import active_crisis, covers
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.reads import sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)

SNOOZES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1)}


def _filter(request: Request) -> InboxFilter:
    params = request.query_params
    status = params.get("status") or "open"
    view = params.get("view") or "all"
    return InboxFilter(
        status=status if status in STATUSES else "open",
        queue=params.get("queue") or None,
        view=view if view in actions.VIEWS else "all",
    )


def _list_context(db: Db, workspace_id: int, user_id: int, wanted: InboxFilter) -> dict:
    conversations = actions.list_conversations(db, workspace_id, user_id, wanted)
    customers = {
        customer.id: customer
        for customer in db.scalars(
            select(Customer).where(
                Customer.id.in_([c.customer_id for c in conversations if c.customer_id])
            )
        )
    }
    queues = list(
        db.scalars(select(Queue).where(Queue.workspace_id == workspace_id).order_by(Queue.position))
    )
    return {
        "conversations": conversations,
        "customers": customers,
        "queues": queues,
        "queue_by_id": {queue.id: queue for queue in queues},
        "assignees": actions.assignable_users(db),
        "user_names": _user_names(db),
        "counts": actions.counts(db, workspace_id, user_id),
        "wanted": wanted,
        "now": utcnow(),
    }


def priority_hint(conversation: Conversation, locale: str) -> str:
    """'complaint, 48K followers, 2h waiting' for the priority badge."""
    reasons = [
        (code, values)
        for code, values in (conversation.priority_reasons or [])
        if isinstance(values, dict)
    ]
    priority = Priority(conversation.priority, conversation.priority_level, reasons)
    return explain(priority, locale)


fill_template = fill_reply_template


def _user_names(db: Db) -> dict[int, str]:
    # Everyone, read-only viewers and people gone included: a conversation names who had it.
    return {user_id: name for user_id, name in db.execute(select(User.id, User.name))}


def _conversation_context(db: Db, workspace_id: int, conversation_id: int) -> dict:
    thread = actions.read_thread(db, workspace_id, conversation_id)
    templates = list(
        db.scalars(
            select(SavedReply)
            .where(SavedReply.workspace_id == workspace_id)
            .order_by(SavedReply.name, SavedReply.lang)
        )
    )
    in_flight = list(
        db.scalars(
            select(Reply)
            .where(Reply.conversation_id == conversation_id, Reply.status != "sent")
            .order_by(Reply.id)
        )
    )
    latest_inbound = next((post for post, inbound in reversed(thread.messages) if inbound), None)
    suggestions = (
        suggest_replies(db, thread.conversation, latest_inbound.text, latest_inbound.lang)
        if latest_inbound is not None
        else []
    )
    # What the outbox will decide for an agent's reply (managers are never held).
    held = thread.conversation.needs_approval or covers(
        db,
        active_crisis(db, workspace_id),
        [latest_inbound.id] if latest_inbound is not None else [],
    )
    return {
        "thread": thread,
        "suggestions": suggestions,
        "agent_replies_held": held,
        "saved_replies": templates,
        "replies": in_flight,
        "fill_template": fill_template,
        "limit": LENGTH_LIMITS.get(thread.conversation.network),
        "snoozes": list(SNOOZES),
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    wanted = _filter(request)
    context = _list_context(db, workspace.id, user.id, wanted)
    selected = request.query_params.get("c")
    conversations = context["conversations"]
    chosen = int(selected) if selected and selected.isdigit() else None
    # On a narrow screen, a conversation asked for is shown instead of the list.
    opened = chosen is not None
    if chosen is None and conversations:
        chosen = conversations[0].id
    if chosen is not None:
        context.update(_conversation_context(db, workspace.id, chosen))
        actions.heartbeat(db, context["thread"].conversation, user)
    crisis = active_crisis(db, workspace.id)
    crisis_query = (
        db.get(SavedQuery, crisis.query_id) if crisis and crisis.query_id is not None else None
    )
    return renderer(request).render(
        request,
        "inbox.html",
        selected=chosen,
        opened=opened,
        crisis=crisis,
        crisis_query=crisis_query,
        priority_hint=priority_hint,
        **context,
        **sidebar(db, workspace.id),
        section="inbox",
    )


@router.get("/inbox/list", response_class=HTMLResponse)
def inbox_list(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The list pane alone: polled for live updates, and refreshed after an action; the
    queues' counts come with it (swapped out of band)."""
    wanted = _filter(request)
    selected = request.query_params.get("c")
    return renderer(request).render(
        request,
        "partials/inbox_list.html",
        selected=int(selected) if selected and selected.isdigit() else None,
        priority_hint=priority_hint,
        counts_out_of_band=True,
        **_list_context(db, workspace.id, user.id, wanted),
    )


def _pane(request: Request, db: Db, workspace_id: int, conversation_id: int, **extra) -> Response:
    response = renderer(request).render(
        request,
        "partials/inbox_conversation.html",
        priority_hint=priority_hint,
        now=utcnow(),
        user_names=_user_names(db),
        assignees=actions.assignable_users(db),
        **_conversation_context(db, workspace_id, conversation_id),
        **extra,
    )
    response.headers["HX-Trigger"] = "inbox-changed"
    return response


@router.get("/inbox/c/{conversation_id}", response_class=HTMLResponse)
def conversation_pane(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, conversation_id: int
) -> Response:
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/inbox?c={conversation_id}", status_code=303)
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    actions.heartbeat(db, conversation, user)
    response = _pane(request, db, workspace.id, conversation_id)
    del response.headers["HX-Trigger"]
    return response


def _done(request: Request, db: Db, workspace_id: int, conversation_id: int) -> Response:
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/inbox?c={conversation_id}", status_code=303)
    return _pane(request, db, workspace_id, conversation_id)


@router.post("/inbox/c/{conversation_id}/assign", response_class=HTMLResponse)
def assign(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    conversation_id: int,
    assignee: Annotated[str, Form()] = "",
) -> Response:
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    target = user.id if assignee == "me" else (int(assignee) if assignee.isdigit() else None)
    try:
        actions.assign(db, conversation, target, user)
    except NotAssignable as refused:
        db.rollback()
        if request.headers.get("HX-Request") != "true":
            raise
        response = _pane(request, db, workspace.id, conversation_id, not_assignable=refused)
        del response.headers["HX-Trigger"]
        response.status_code = refused.status_code
        return response
    return _done(request, db, workspace.id, conversation_id)


@router.post("/inbox/c/{conversation_id}/status", response_class=HTMLResponse)
def status(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    conversation_id: int,
    status: Annotated[str, Form()],
    snooze: Annotated[str, Form()] = "",
) -> Response:
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    until = utcnow() + SNOOZES[snooze] if status == "snoozed" and snooze in SNOOZES else None
    actions.set_status(db, conversation, status, user, until)
    return _done(request, db, workspace.id, conversation_id)


@router.post("/inbox/c/{conversation_id}/note", response_class=HTMLResponse)
def note(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    conversation_id: int,
    body: Annotated[str, Form()] = "",
) -> Response:
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    actions.add_note(db, conversation, body, user)
    return _done(request, db, workspace.id, conversation_id)


@router.post("/inbox/c/{conversation_id}/tags", response_class=HTMLResponse)
def tags(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    conversation_id: int,
    add: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    actions.tag(db, conversation, add.split(","), [remove] if remove else [], user)
    return _done(request, db, workspace.id, conversation_id)


@router.post("/inbox/c/{conversation_id}/presence", response_class=HTMLResponse)
def presence(
    request: Request,
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    conversation_id: int,
    state: Annotated[str, Form()] = "viewing",
) -> Response:
    """A heartbeat from the open conversation; answers with who else is there."""
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    others = actions.heartbeat(db, conversation, user, state)
    return renderer(request).render(request, "partials/inbox_presence.html", others=others)


@router.post("/inbox/c/{conversation_id}/reply", response_class=HTMLResponse)
def reply(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    conversation_id: int,
    body: Annotated[str, Form()] = "",
    seen_item_id: Annotated[str, Form()] = "",
) -> Response:
    """Send a reply through the outbox; refused (and what the colleague sent shown) when
    someone else is replying or answered since this agent last looked."""
    conversation = actions.get_conversation(db, workspace.id, conversation_id)
    seen = int(seen_item_id) if seen_item_id.isdigit() else None
    try:
        queue_reply(db, conversation, user, body, seen)
    except ReplyCollision as collision:
        db.rollback()
        return _refused(request, db, workspace.id, conversation_id, body, collision=collision)
    except ClameurError as refused:
        if refused.status_code != 400:
            raise
        db.rollback()
        return _refused(request, db, workspace.id, conversation_id, body, error=str(refused))
    return _done(request, db, workspace.id, conversation_id)


def _refused(
    request: Request, db: Db, workspace_id: int, conversation_id: int, draft: str, **why: object
) -> Response:
    if request.headers.get("HX-Request") != "true":
        raise ClameurError(str(why.get("error") or why.get("collision")))
    response = _pane(request, db, workspace_id, conversation_id, draft=draft, **why)
    response.status_code = 409 if "collision" in why else 400
    return response


@router.post("/inbox/replies/{reply_id}/{decision}", response_class=HTMLResponse)
def decide_reply(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    reply_id: int,
    decision: str,
    body: Annotated[str, Form()] = "",
) -> Response:
    """A manager approves (possibly edited) or discards a reply held for approval."""
    held = db.get(Reply, reply_id)
    if held is None or held.workspace_id != workspace.id:
        raise NotFound(f"reply {reply_id} not found")
    if decision == "approve":
        approve_reply(db, held, user, body.strip() or None)
    elif decision == "discard":
        discard_reply(db, held, user)
    else:
        raise NotFound(f"no decision {decision!r}: use approve or discard")
    return _done(request, db, workspace.id, held.conversation_id)


@router.post("/inbox/bulk", response_class=HTMLResponse)
def bulk(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    ids: Annotated[list[int], Form()],
    action: Annotated[str, Form()],
    tag: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
) -> Response:
    """Assign (to me or to a colleague), resolve or tag several conversations at once."""
    target = int(assignee) if assignee.isdigit() else None
    try:
        if action == "assign" and target is not None:
            actions.check_assignee(db, target)
        for conversation_id in ids:
            conversation = actions.get_conversation(db, workspace.id, conversation_id)
            if action == "assign_me":
                actions.assign(db, conversation, user.id, user)
            elif action == "assign":
                actions.assign(db, conversation, target, user)
            elif action == "resolve":
                actions.set_status(db, conversation, "resolved", user)
            elif action == "tag" and tag.strip():
                actions.tag(db, conversation, [tag.strip()], [], user)
            else:
                raise ClameurError(f"unknown bulk action {action!r}")
    except ClameurError as refused:
        if refused.status_code != 400 or request.headers.get("HX-Request") != "true":
            raise
        db.rollback()
        # The bar swaps nothing when it succeeds; a refusal is said above the list.
        refusal = renderer(request).render(
            request,
            "partials/inbox_refusal.html",
            not_assignable=refused if isinstance(refused, NotAssignable) else None,
            error=str(refused),
            status=400,
            status_code=400,
        )
        refusal.headers["HX-Retarget"] = "#inbox-notice"
        refusal.headers["HX-Reswap"] = "innerHTML"
        return refusal
    if request.headers.get("HX-Request") == "true":
        response = Response(status_code=204)
        response.headers["HX-Trigger"] = "inbox-changed"
        return response
    return RedirectResponse(_back_to_inbox(request), status_code=303)


def _back_to_inbox(request: Request) -> str:
    """The inbox page the bar was on (a form sent without JavaScript says it in Referer)."""
    for header in ("HX-Current-URL", "Referer"):
        url = urlsplit(request.headers.get(header) or "")
        if url.netloc in ("", request.url.netloc) and url.path == "/inbox":
            return f"/inbox?{url.query}" if url.query else "/inbox"
    return "/inbox"


@router.post("/inbox/away", response_class=HTMLResponse)
def away(request: Request, db: Db, user: Editor, away: Annotated[str, Form()] = "") -> Response:
    """The agent sets themselves away (nothing new is assigned to them) or back."""
    set_away(db, user, away == "on")
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse("/inbox", status_code=303)
    return renderer(request).render(request, "partials/inbox_away.html")


@router.get("/inbox/notifications/count", response_class=HTMLResponse)
def notifications_count(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The bell's unread count, polled."""
    return renderer(request).render(
        request,
        "partials/inbox_bell_count.html",
        unread=notifications.unread_count(db, workspace.id, user.id),
    )


@router.get("/inbox/notifications", response_class=HTMLResponse)
def notifications_list(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The bell's panel: the latest notifications, unread first in bold."""
    return renderer(request).render(
        request,
        "partials/inbox_notifications.html",
        items=notifications.recent(db, workspace.id, user.id),
    )


@router.post("/inbox/notifications/read", response_class=HTMLResponse)
def notifications_read(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """Mark every notification read."""
    notifications.mark_read(db, workspace.id, user.id)
    response = renderer(request).render(
        request,
        "partials/inbox_notifications.html",
        items=notifications.recent(db, workspace.id, user.id),
    )
    response.headers["HX-Trigger"] = "notifications-changed"
    return response


@router.get("/inbox/notifications/{notification_id}", response_class=HTMLResponse)
def notification_open(
    db: Db, user: CurrentUser, workspace: CurrentWorkspace, notification_id: int
) -> Response:
    """Follow a notification's link, marking it read."""
    found = db.get(Notification, notification_id)
    if found is None or found.user_id != user.id or found.workspace_id != workspace.id:
        raise NotFound(f"notification {notification_id} not found")
    notifications.mark_read(db, workspace.id, user.id, notification_id)
    link = found.link if found.link.startswith("/") else "/inbox"
    return RedirectResponse(link, status_code=303)


@router.get("/inbox/customers/{customer_id}/suggestions", response_class=HTMLResponse)
def customer_suggestions(
    request: Request,
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    customer_id: int,
) -> Response:
    """Profiles that are probably the same person, loaded when the panel is opened."""
    customer = get_customer(db, workspace.id, customer_id)
    conversation = request.query_params.get("c", "")
    return renderer(request).render(
        request,
        "partials/inbox_merge.html",
        customer=customer,
        suggestions=merge_suggestions(db, workspace.id, customer.id),
        conversation_id=int(conversation) if conversation.isdigit() else None,
    )


@router.post("/inbox/customers/{customer_id}/merge", response_class=HTMLResponse)
def merge_customer(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    customer_id: int,
    source: Annotated[int, Form()],
    conversation: Annotated[int, Form()],
) -> Response:
    """Merge another profile (`source`) into this one: its handles, conversations, tags and
    notes come here."""
    merge_customers(db, workspace.id, source, customer_id, user)
    return _done(request, db, workspace.id, conversation)
