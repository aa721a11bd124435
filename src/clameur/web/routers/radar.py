"""The radar pages: e-reputation charts, emerging terms, alerts and their rules, crisis mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import orjson
from babel.dates import format_time
from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.time import utcnow
from clameur.listening.service import list_queries
from clameur.models import AlertDelivery
from clameur.radar import alerts as alert_rules
from clameur.radar import channels, crisis, service
from clameur.radar.detector import alert_threshold
from clameur.radar.series import bucket_start
from clameur.web.charts import line_chart, stacked_bars
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Manager
from clameur.web.reads import sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)
FLASH_KEY = "radar_flash"
HUES = (222, 12, 145, 280, 38, 190, 330, 95)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _period(value: str | None) -> str:
    return value if value in service.PERIODS else "24h"


@dataclass(frozen=True, slots=True)
class AlertMarks:
    """What the charts of an alert's page mark: the alert's window, shaded, and the buckets
    where its rule's condition held, on the chart of what the rule measures."""

    start: datetime
    end: datetime
    fired: frozenset[datetime]
    on_share: bool
    share_window: timedelta
    share_threshold: float | None
    marker: str


def _alert_marks(
    request: Request, alert: Any, rule: Any, explanation: service.AlertExplanation
) -> AlertMarks:
    gettext = renderer(request).formats(request).gettext
    start, end = explanation.window(alert)
    share_rule = rule is not None and rule.kind == "negative_share"
    return AlertMarks(
        start,
        end,
        frozenset(explanation.fired),
        on_share=share_rule or alert.metric == "negative",
        share_window=timedelta(minutes=rule.window_minutes) if share_rule else timedelta(hours=1),
        share_threshold=rule.threshold if share_rule else None,
        marker=gettext("Anomaly")
        if rule is None or rule.kind == "smart"
        else gettext("Above the threshold"),
    )


def _charts(
    request: Request,
    points: list[service.ChartPoint],
    period: str,
    threshold: float,
    marks: AlertMarks | None = None,
) -> dict[str, Any]:
    """The volume and negative-share charts of a series; on an alert's page, with the alert's
    window shaded and the buckets where its rule fired marked."""
    fmt = renderer(request).formats(request)
    gettext = fmt.gettext

    def label(moment: Any) -> str:
        local = moment.astimezone(fmt.timezone)
        if period == "24h":
            return local.strftime("%H:%M")
        if period == "7d":
            return local.strftime("%d/%m %Hh" if fmt.locale.startswith("fr") else "%b %d, %H:00")
        return fmt.date(moment, "short")

    def title(point: service.ChartPoint) -> str:
        text = gettext("%(when)s: %(count)s posts") % {
            "when": fmt.datetime(point.start, "short"),
            "count": fmt.number(int(point.volume)),
        }
        if point.expected is not None:
            text += " · " + gettext("expected %(low)s–%(high)s") % {
                "low": fmt.number(round(point.low or 0)),
                "high": fmt.number(round(point.high or 0)),
            }
        if point.score >= threshold:
            text += " · " + gettext("anomaly")
        return text

    def share_title(point: service.ChartPoint) -> str:
        return gettext("%(when)s: %(share)s%% negative (%(count)s of %(total)s)") % {
            "when": fmt.datetime(point.start, "short"),
            "share": fmt.decimal(point.negative_share, 1),
            "count": fmt.number(int(point.negative)),
            "total": fmt.number(int(point.volume)),
        }

    def percent(value: float) -> str:
        return f"{fmt.decimal(value, 0)} %"

    def anomaly(p: service.ChartPoint) -> bool:
        return p.score >= threshold and p.volume > 0

    def fired(p: service.ChartPoint) -> bool:
        return marks is not None and p.start in marks.fired

    volume_marked: Callable[[service.ChartPoint], bool] | None = anomaly
    share_marked: Callable[[service.ChartPoint], bool] | None = None
    window = timedelta(hours=1) if period == "24h" else timedelta(0)
    spans: list[tuple[datetime, datetime, str]] = []
    guides: list[tuple[float, str]] = []
    if marks is not None:
        volume_marked, share_marked = (None, fired) if marks.on_share else (fired, None)
        window = marks.share_window
        when = {
            "start": fmt.datetime(marks.start, "short"),
            "end": fmt.datetime(marks.end, "short"),
        }
        spans.append((marks.start, marks.end, gettext("Alert: %(start)s to %(end)s") % when))
        if marks.share_threshold is not None:
            guides.append((marks.share_threshold, percent(marks.share_threshold)))

    volume = line_chart(
        points,
        value=lambda p: p.volume,
        label=label,
        title=title,
        band=lambda p: (p.low, p.high) if p.expected is not None else None,
        anomalous=volume_marked,
        number=lambda v: fmt.compact(int(v)),
        spans=spans,
    )
    share = line_chart(
        rolling_share(points, window) if window else points,
        value=lambda p: p.negative_share,
        label=label,
        title=share_title,
        anomalous=share_marked,
        number=percent,
        fixed_max=100.0,
        height=116,
        spans=spans,
        guides=guides,
    )
    return {
        "volume_chart": volume,
        "share_chart": share,
        "marker_label": marks.marker if marks else gettext("Anomaly"),
    }


def rolling_share(points: list[service.ChartPoint], window: timedelta) -> list[service.ChartPoint]:
    """Points whose counts are those of the `window` ending with them (a span of time, as the
    alert rules slide it): a share over two or three posts swings between 0 and 100 %, an
    hour's share says something."""
    out = []
    volume = negative = 0.0
    first = 0
    for point in points:
        volume += point.volume
        negative += point.negative
        while points[first].start <= point.start - window:
            volume -= points[first].volume
            negative -= points[first].negative
            first += 1
        out.append(service.ChartPoint(point.start, max(0.0, volume), max(0.0, negative)))
    return out


def _voice_chart(request: Request, chart: service.VoiceChart) -> dict[str, Any]:
    fmt = renderer(request).formats(request)
    voices = chart.voices
    if not voices:
        return {"voices": [], "voice_chart": None}
    names = [_voice_name(request, v) for v in voices]
    stacks = [(names[i], HUES[i % len(HUES)], v.points) for i, v in enumerate(voices)]

    def label(moment: Any) -> str:
        local = moment.astimezone(fmt.timezone)
        return local.strftime("%H:%M") if chart.grain == "h1" else fmt.date(moment, "short")

    def title(name: str, start: Any, amount: int) -> str:
        return f"{name} · {fmt.datetime(start, 'short')}: {fmt.number(amount)}"

    return {
        "voices": voices,
        "voice_chart": stacked_bars(chart.starts, stacks, label, title),
        "voice_names": names,
    }


def _voice_name(request: Request, voice: service.VoiceShare) -> str:
    if voice.key == "brand":
        workspace = getattr(request.state, "workspace", None)
        return getattr(workspace, "name", "") or "brand"
    return voice.label


@router.get("/radar", response_class=HTMLResponse)
def radar_page(
    request: Request,
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    series: int | None = None,
    period: str | None = None,
) -> Response:
    """The e-reputation of a series: volume against its expected band, negative share, share of
    voice, networks and languages, emerging terms, alerts."""
    return renderer(request).render(
        request, "radar.html", **_radar_context(request, db, workspace.id, series, _period(period))
    )


@router.get("/radar/live", response_class=HTMLResponse)
def radar_live(
    request: Request,
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    series: int | None = None,
    period: str | None = None,
) -> Response:
    """The radar's body, refreshed in place every minute."""
    return renderer(request).render(
        request,
        "partials/radar_body.html",
        **_radar_context(request, db, workspace.id, series, _period(period)),
    )


def _radar_context(
    request: Request, db: Db, workspace_id: int, series_id: int | None, period: str
) -> dict[str, Any]:
    now = utcnow()
    chosen = service.get_series(db, workspace_id, series_id)
    choices = service.list_series(db, workspace_id)
    points = service.chart(db, chosen.id, period, now)
    threshold = alert_threshold(0.5)
    voice_from, voice_to = (
        _day(request.query_params.get("from")),
        _day(request.query_params.get("to")),
    )
    voices = service.share_of_voice(
        db,
        workspace_id,
        period,
        now,
        _start_of(voice_from) if voice_from else None,
        _start_of(voice_to) if voice_to else None,
    )
    window = timedelta(hours=1)
    terms = service.in_their_words(
        db,
        workspace_id,
        chosen,
        service.emerging_terms(db, chosen.id, now, window=window),
        bucket_start(now - window, "h1"),
        now,
    )
    return {
        "series": chosen,
        "choices": choices,
        "chosen": next((c for c in choices if c.id == chosen.id), None),
        "period": period,
        "periods": list(service.PERIODS),
        "summary": service.summary(db, chosen.id, period, now),
        "points": points,
        "empty": service.stale(points),
        **_charts(request, points, period, threshold),
        **_voice_chart(request, voices),
        "voice_from": voice_from,
        "voice_to": voice_to,
        "hues": HUES,
        "networks_breakdown": service.breakdown(db, chosen.id, period, now, "network"),
        "langs_breakdown": service.breakdown(db, chosen.id, period, now, "lang"),
        "terms": terms,
        "alerts": service.list_alerts(db, workspace_id, limit=8),
        "rule_names": {rule.id: rule.name for rule in service.list_rules(db, workspace_id)},
        "crisis": crisis.active_crisis(db, workspace_id),
        "now": now,
        "section": "radar",
        **sidebar(db, workspace_id),
    }


# --- Alerts --------------------------------------------------------------------------------


@router.get("/radar/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """Every alert, newest first."""
    return renderer(request).render(
        request,
        "radar_alerts.html",
        alerts=service.list_alerts(db, workspace.id, limit=200),
        rules={r.id: r for r in service.list_rules(db, workspace.id)},
        section="radar",
        **sidebar(db, workspace.id),
    )


@router.get("/radar/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, alert_id: int
) -> Response:
    """What moved, by how much against the expected band, and why."""
    now = utcnow()
    alert = service.get_alert(db, workspace.id, alert_id)
    service.mark_seen(alert, user.id)
    explanation = service.explain_alert(db, workspace.id, alert, now)
    rule = service.get_rule(db, workspace.id, alert.rule_id) if alert.rule_id else None
    series = service.get_series(db, workspace.id, alert.series_id)
    choice = next((c for c in service.list_series(db, workspace.id) if c.id == series.id), None)
    threshold = alert_threshold(rule.sensitivity if rule else 0.5)
    marks = _alert_marks(request, alert, rule, explanation)
    deliveries = (
        db.query(AlertDelivery)
        .filter(AlertDelivery.alert_id == alert.id)
        .order_by(AlertDelivery.id)
        .all()
    )
    return renderer(request).render(
        request,
        "radar_alert.html",
        alert=alert,
        rule=rule,
        series=series,
        choice=choice,
        explanation=explanation,
        deliveries=deliveries,
        crisis=crisis.active_crisis(db, workspace.id),
        **_charts(request, explanation.points, "24h", threshold, marks),
        now=now,
        section="radar",
        **sidebar(db, workspace.id),
    )


@router.post("/radar/deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, delivery_id: int
) -> Response:
    """Send a failed alert message again."""
    delivery = db.get(AlertDelivery, delivery_id)
    alert = service.get_alert(db, workspace.id, delivery.alert_id) if delivery else None
    if delivery is None or alert is None:
        raise ClameurError("no such message")
    channels.retry_delivery(db, delivery_id)
    return RedirectResponse(f"/radar/alerts/{alert.id}", status_code=303)


# --- Alert rules ---------------------------------------------------------------------------


# What a new rule of each kind starts with; each kind's form shows only the fields it reads.
RULE_DEFAULTS: dict[str, dict[str, Any]] = {
    "smart": {"metric": "volume", "sensitivity": 0.5, "min_volume": 10},
    "volume": {"metric": "volume", "threshold": 100, "window_minutes": 60},
    "negative_share": {"threshold": 40, "window_minutes": 60, "min_volume": 20},
}
# Values a kind does not read are stored as they are here.
UNUSED_DEFAULTS: dict[str, Any] = {
    "metric": "volume",
    "sensitivity": 0.5,
    "threshold": 0,
    "window_minutes": 60,
    "min_volume": 0,
}
DEFAULT_RULE: dict[str, Any] = {
    "name": "",
    "query_id": None,
    "kind": "smart",
    **UNUSED_DEFAULTS,
    **RULE_DEFAULTS["smart"],
    "cooldown_minutes": 120,
    "channels": [],
}


def _defaults(kind: str) -> dict[str, Any]:
    """A new rule's values, for `kind`."""
    return {**DEFAULT_RULE, **UNUSED_DEFAULTS, **RULE_DEFAULTS.get(kind, {}), "kind": kind}


def _rule_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's values from its form (numbers with a comma or a dot; blank or absent means the
    default of the rule's kind)."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    kind = text("kind") or "smart"
    defaults = _defaults(kind)

    def number(name: str) -> float:
        raw = text(name)
        try:
            return float(raw.replace(",", ".")) if raw else float(defaults[name])
        except ValueError as error:
            raise alert_rules.InvalidRule(f"{raw!r} is not a number") from error

    targets: list[dict[str, Any]] = [
        {"type": "email", "to": address.strip()}
        for address in text("emails").replace(";", ",").split(",")
        if address.strip()
    ]
    if text("webhook_url"):
        targets.append(
            {"type": "webhook", "url": text("webhook_url"), "secret": text("webhook_secret")}
        )
    return {
        "name": text("name"),
        "query_id": int(text("query_id")) if text("query_id").isdigit() else None,
        "kind": kind,
        "metric": text("metric") or defaults["metric"],
        "sensitivity": number("sensitivity"),
        "threshold": number("threshold"),
        "window_minutes": int(number("window_minutes")),
        "min_volume": int(number("min_volume")),
        "cooldown_minutes": int(number("cooldown_minutes")),
        "channels": targets,
    }


def _stored_values(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "query_id": rule.query_id,
        "kind": rule.kind,
        "metric": rule.metric,
        "sensitivity": rule.sensitivity,
        "threshold": rule.threshold,
        "window_minutes": rule.window_minutes,
        "min_volume": rule.min_volume,
        "cooldown_minutes": rule.cooldown_minutes,
        "channels": rule.channels,
    }


def _shown(request: Request, values: Mapping[str, Any]) -> dict[str, str]:
    """Decimals as the form shows them: written the reader's way ("0,50" in French), as the
    rules' table writes them; the server reads a comma or a dot."""
    locale = renderer(request).formats(request).locale
    return {
        "sensitivity": format_decimal(float(values["sensitivity"]), "0.00", locale=locale),
        "threshold": format_decimal(float(values["threshold"]), "0.##", locale=locale),
    }


RuleForm = Annotated[str, Form()]


@router.get("/radar/rules", response_class=HTMLResponse)
def rules_page(
    request: Request,
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    edit: int | None = None,
) -> Response:
    """Alert rules, and the form to write one with its backtest."""
    rule = service.get_rule(db, workspace.id, edit) if edit else None
    return _rules(request, db, workspace.id, rule=rule)


@router.get("/radar/rules/fields", response_class=HTMLResponse)
def rule_fields(
    request: Request,
    db: Db,
    user: Manager,
    workspace: CurrentWorkspace,
    kind: str = "smart",
    rule_id: str = "",
) -> Response:
    """The fields of one kind of rule, swapped into the form when the kind changes: the edited
    rule's values when it is of that kind, the kind's defaults otherwise."""
    kind = kind if kind in RULE_DEFAULTS else "smart"
    rule = service.get_rule(db, workspace.id, int(rule_id)) if rule_id.isdigit() else None
    values = _stored_values(rule) if rule is not None and rule.kind == kind else _defaults(kind)
    return renderer(request).render(
        request, "radar_rule_fields.html", values=values, shown=_shown(request, values)
    )


def _rules(
    request: Request,
    db: Db,
    workspace_id: int,
    rule: Any = None,
    values: dict[str, Any] | None = None,
    error: ClameurError | None = None,
    switched: bool = False,
) -> Response:
    if values is None and rule is not None:
        values = _stored_values(rule)
    values = values or dict(DEFAULT_RULE)
    return renderer(request).render(
        request,
        "radar_rules.html",
        status_code=error.status_code if error else 200,
        rules=service.list_rules(db, workspace_id),
        queries=list_queries(db, workspace_id),
        rule=rule,
        values=values,
        shown=_shown(request, values),
        switched=switched,
        emails=", ".join(c.get("to", "") for c in values["channels"] if c.get("type") == "email"),
        webhook=next((c for c in values["channels"] if c.get("type") == "webhook"), {}),
        error=error,
        flash=request.session.pop(FLASH_KEY, None),
        section="radar",
        **sidebar(db, workspace_id),
    )


@router.post("/radar/rules", response_class=HTMLResponse)
async def save_rule(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace
) -> Response:
    """Create or update an alert rule; a bad one comes back with what is wrong. Without
    JavaScript, a form whose kind was changed comes back with the fields of its new kind."""
    form = await request.form()
    rule_id = str(form.get("rule_id") or "")
    existing = int(rule_id) if rule_id.isdigit() else None
    kind = str(form.get("kind") or "smart")
    fields_of = str(form.get("fields_of") or kind)
    values: dict[str, Any] = {}
    try:
        values = _rule_values(form)
        if fields_of != kind and kind in RULE_DEFAULTS:
            # The fields filled in were another kind's: show this kind's before saving.
            rule = service.get_rule(db, workspace.id, existing) if existing else None
            kept = {k: values[k] for k in ("name", "query_id", "cooldown_minutes", "channels")}
            return _rules(
                request, db, workspace.id, rule, {**_defaults(kind), **kept}, switched=True
            )
        service.save_rule(db, workspace.id, values, existing)
    except ClameurError as error:
        db.rollback()
        rule = service.get_rule(db, workspace.id, existing) if existing else None
        fallback = values or {**_defaults(kind), "name": str(form.get("name") or "")}
        return _rules(request, db, workspace.id, rule=rule, values=fallback, error=error)
    request.session[FLASH_KEY] = "updated" if existing else "created"
    return RedirectResponse("/radar/rules", status_code=303)


@router.post("/radar/rules/{rule_id}/delete")
def delete_rule(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, rule_id: int
) -> Response:
    """Remove an alert rule."""
    service.delete_rule(db, workspace.id, rule_id)
    request.session[FLASH_KEY] = "deleted"
    return RedirectResponse("/radar/rules", status_code=303)


@router.post("/radar/rules/backtest", response_class=HTMLResponse)
async def backtest_rule(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """How often the rule in the form would have fired over the last 30 days."""
    error: ClameurError | None = None
    result = None
    episodes: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    try:
        values = _rule_values(await request.form())
        spec = alert_rules.RuleSpec.from_values(values)
        result = alert_rules.backtest(db, workspace.id, values["query_id"], spec)
        episodes = [_episode(request, e) for e in result.episodes[-10:][::-1]]
    except ClameurError as caught:
        error = caught
    return renderer(request).render(
        request,
        "partials/radar_backtest.html",
        result=result,
        episodes=episodes,
        percent=values.get("kind") == "negative_share",
        error=error,
    )


def _episode(request: Request, episode: alert_rules.Episode) -> dict[str, Any]:
    """When an episode of the backtest ran, as read: its start, the end of its last bucket
    (the time alone on the same day) and its length; one bucket reads as its start alone."""
    fmt = renderer(request).formats(request)
    start, end = episode.started_at, episode.ended_at
    same_day = start.astimezone(fmt.timezone).date() == end.astimezone(fmt.timezone).date()
    single = episode.last_seen_at == episode.started_at
    return {
        "start": fmt.datetime(start, "short"),
        "end": None
        if single
        else format_time(end, "short", tzinfo=fmt.timezone, locale=fmt.locale)
        if same_day
        else fmt.datetime(end, "short"),
        "minutes": episode.minutes,
        "peak": episode.peak.value,
    }


# --- Crisis mode ---------------------------------------------------------------------------


@router.post("/radar/crisis/start")
def start_crisis(
    request: Request,
    db: Db,
    user: Manager,
    workspace: CurrentWorkspace,
    reason: RuleForm = "",
    query_id: RuleForm = "",
    alert_id: RuleForm = "",
) -> Response:
    """Switch crisis mode on."""
    crisis.start_crisis(
        db,
        workspace.id,
        user.id,
        reason,
        query_id=int(query_id) if query_id.isdigit() else None,
        alert_id=int(alert_id) if alert_id.isdigit() else None,
    )
    return RedirectResponse("/radar/crisis", status_code=303)


@router.post("/radar/crisis/end")
def end_crisis(request: Request, db: Db, user: Manager, workspace: CurrentWorkspace) -> Response:
    """Switch crisis mode off; the post-mortem opens."""
    ended = crisis.end_crisis(db, workspace.id, user.id)
    return RedirectResponse(f"/radar/crisis/{ended.id}", status_code=303)


@router.get("/radar/crisis", response_class=HTMLResponse)
def crisis_room(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The crisis room: the live timeline while a crisis is on, past crises otherwise."""
    current = crisis.active_crisis(db, workspace.id)
    return _crisis_page(request, db, workspace.id, current)


@router.get("/radar/crisis/{crisis_id}", response_class=HTMLResponse)
def crisis_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, crisis_id: int
) -> Response:
    """One crisis: its live timeline, or its post-mortem once over."""
    return _crisis_page(request, db, workspace.id, crisis.get_crisis(db, workspace.id, crisis_id))


def _crisis_page(request: Request, db: Db, workspace_id: int, shown: Any) -> Response:
    now = utcnow()
    line = None
    if shown is not None:
        line = dict(shown.report["timeline"] if shown.report else crisis.timeline(db, shown, now))
        line["buckets"] = [{**b, "at": datetime.fromisoformat(b["start"])} for b in line["buckets"]]
    return renderer(request).render(
        request,
        "radar_crisis.html",
        shown=shown,
        line=line,
        report=shown.report if shown is not None else None,
        crises=crisis.list_crises(db, workspace_id),
        queries=list_queries(db, workspace_id),
        active=crisis.active_crisis(db, workspace_id),
        max_volume=max((b["volume"] for b in (line or {}).get("buckets", [])), default=0),
        now=now,
        section="radar",
        **sidebar(db, workspace_id),
    )


@router.get("/radar/crisis/{crisis_id}/report.{extension}")
def crisis_report(
    db: Db, user: CurrentUser, workspace: CurrentWorkspace, crisis_id: int, extension: str
) -> Response:
    """The post-mortem as Markdown (to paste or archive) or JSON."""
    if extension not in ("md", "json"):
        raise NotFound("the post-mortem exports as report.md or report.json")
    shown = crisis.get_crisis(db, workspace.id, crisis_id)
    if not shown.report:
        raise ClameurError("the crisis is still on: its post-mortem is written when it ends")
    if extension == "md":
        body = crisis.report_markdown(shown, shown.report).encode()
        media_type = "text/markdown; charset=utf-8"
    else:
        body = orjson.dumps(shown.report, option=orjson.OPT_INDENT_2)
        media_type = "application/json"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="crisis-{shown.id}.{extension}"'},
    )
