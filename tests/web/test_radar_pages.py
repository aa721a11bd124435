"""The radar pages: charts, alert rules with their backtest, alerts, crisis mode."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clameur.kit.time import utcnow
from clameur.models import Alert, AlertRule, CrisisMode, Role
from clameur.radar.service import run_pass


def _recent_posts(build: Any, workspace: int, count: int = 40) -> None:
    now = utcnow()
    build.store(
        workspace,
        [
            build.post(
                created_at=now - timedelta(minutes=7 * i),
                text="Toujours pas de remboursement pour le vol annulé #Ouigo",
                lang="fr",
                sentiment="negative" if i % 2 else "neutral",
            )
            for i in range(count)
        ],
    )


def _manager(client: Any, build: Any) -> Any:
    build.user("mia@example.com", Role.manager, "Mia Manager")
    assert client.sign_in("mia@example.com").status_code == 303
    return client


def test_the_radar_page_draws_volume_share_and_terms(
    client: Any, build: Any, workspace: int, factory: sessionmaker[Session]
) -> None:
    build.query(workspace, "Vols", "vol")
    _recent_posts(build, workspace)
    run_pass(factory)
    client = _manager(client, build)
    page = client.get("/radar?period=24h")
    assert page.status_code == 200
    html = page.text
    assert 'class="chart-line"' in html and 'class="chart-band"' in html
    assert "Negative share" in html or "Part négative" in html
    assert "remboursement" in html
    ranged = client.get("/radar?from=2020-01-01&to=2020-01-03")
    assert ranged.status_code == 200 and 'value="2020-01-03"' in ranged.text
    assert client.get("/radar?from=not-a-date").status_code == 200
    live = client.get("/radar/live?period=7d")
    assert live.status_code == 200 and 'class="chart-line"' in live.text


def test_agents_see_the_rules_but_cannot_change_them(agent: Any) -> None:
    assert agent.get("/radar/rules").status_code == 200
    refused = agent.submit("/radar/rules", {"name": "x", "kind": "volume", "threshold": "5"})
    assert refused.status_code == 403


def test_a_manager_writes_a_rule_after_a_backtest_and_a_bad_one_says_why(
    client: Any, build: Any, workspace: int, factory: sessionmaker[Session]
) -> None:
    _recent_posts(build, workspace)
    run_pass(factory)
    client = _manager(client, build)
    form = {
        "name": "Beaucoup",
        "kind": "volume",
        "threshold": "3",
        "window_minutes": "60",
        "cooldown_minutes": "60",
    }
    trial = client.submit("/radar/rules/backtest", form)
    assert trial.status_code == 200
    assert "se serait déclenchée 1 fois ces 30 derniers jours" in trial.text
    bad = client.submit("/radar/rules", {**form, "threshold": "0"})
    assert bad.status_code == 422
    assert "at least 1" in bad.text  # domain errors are in English
    saved = client.submit(
        "/radar/rules",
        {**form, "emails": "crise@example.com", "webhook_url": "https://hooks.example.com/x"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    rules = build.all(AlertRule)
    assert [r.name for r in rules] == ["Beaucoup"]
    assert [c["type"] for c in rules[0].channels] == ["email", "webhook"]
    assert "Beaucoup" in client.get("/radar/rules").text


def test_an_alert_page_explains_what_moved(
    client: Any, build: Any, workspace: int, factory: sessionmaker[Session]
) -> None:
    _recent_posts(build, workspace)
    with factory() as session, session.begin():
        session.add(
            AlertRule(
                workspace_id=workspace, name="Tout", kind="volume", threshold=2, window_minutes=60
            )
        )
    run_pass(factory)
    alerts = build.all(Alert)
    assert len(alerts) == 1
    client = _manager(client, build)
    page = client.get(f"/radar/alerts/{alerts[0].id}")
    assert page.status_code == 200
    assert "Top posts" in page.text or "Publications" in page.text
    assert "remboursement" in page.text
    assert client.get("/radar/alerts").status_code == 200
    # The radar proposes crisis mode while an alert is ongoing.
    assert alerts[0].status == "open"
    assert "crisis-proposal" in client.get("/radar").text
    assert client.get("/radar/alerts/999999").status_code == 404


def test_crisis_mode_from_switch_on_to_post_mortem(client: Any, build: Any, workspace: int) -> None:
    _recent_posts(build, workspace, 10)
    client = _manager(client, build)
    started = client.submit(
        "/radar/crisis/start", {"reason": "Vols annulés"}, follow_redirects=False
    )
    assert started.status_code == 303
    room = client.get("/radar/crisis")
    assert "Vols annulés" in room.text
    assert "crisis-banner" in client.get("/radar").text
    ended = client.submit("/radar/crisis/end", follow_redirects=False)
    assert ended.status_code == 303
    crisis = build.all(CrisisMode)[0]
    assert crisis.report is not None
    report = client.get(f"/radar/crisis/{crisis.id}")
    assert report.status_code == 200 and f"/radar/crisis/{crisis.id}/report.md" in report.text
    markdown = client.get(f"/radar/crisis/{crisis.id}/report.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# Post-mortem: crisis #{crisis.id}")
    assert client.get(f"/radar/crisis/{crisis.id}/report.json").json()["reason"] == "Vols annulés"


def test_agents_cannot_switch_crisis_mode_on(agent: Any) -> None:
    assert agent.submit("/radar/crisis/start", {"reason": "x"}).status_code == 403


def test_the_api_tells_publishing_whether_crisis_mode_is_on(
    client: Any, build: Any, workspace: int
) -> None:
    client = _manager(client, build)
    assert client.get("/api/v1/crisis").json() == {
        "active": False,
        "crisis_id": None,
        "since": None,
        "reason": "",
        "query_id": None,
    }
    client.submit("/radar/crisis/start", {"reason": "Rappel produit"})
    state = client.get("/api/v1/crisis").json()
    assert state["active"] is True and state["reason"] == "Rappel produit"
    assert client.get("/api/v1/alerts").json() == []


def test_a_post_mortem_exports_only_as_markdown_or_json(
    client: Any, build: Any, workspace: int
) -> None:
    client = _manager(client, build)
    client.submit("/radar/crisis/start", {"reason": "x"})
    client.submit("/radar/crisis/end")
    crisis = build.all(CrisisMode)[0]
    assert client.get(f"/radar/crisis/{crisis.id}/report.pdf").status_code == 404
    assert client.get(f"/radar/crisis/{crisis.id}/report.md").status_code == 200


def test_the_rule_form_shows_the_fields_of_its_kind_only(
    client: Any, build: Any, workspace: int
) -> None:
    client = _manager(client, build)
    smart = client.get("/radar/rules").text
    assert 'name="sensitivity"' in smart and 'value="0,50"' in smart
    assert 'name="threshold"' not in smart and 'name="window_minutes"' not in smart
    volume = client.get("/radar/rules/fields?kind=volume").text
    assert 'name="threshold"' in volume and 'value="100"' in volume
    assert 'name="sensitivity"' not in volume
    share = client.get("/radar/rules/fields?kind=negative_share").text
    assert 'name="threshold"' in share and 'value="40"' in share and 'name="min_volume"' in share
    assert 'name="metric"' not in share


def test_a_decimal_written_with_a_comma_is_read_and_shown_the_french_way(
    client: Any, build: Any, workspace: int
) -> None:
    client = _manager(client, build)
    form = {"name": "Fin", "kind": "smart", "sensitivity": "0,75", "min_volume": "5"}
    assert client.submit("/radar/rules", form, follow_redirects=False).status_code == 303
    rule = build.all(AlertRule)[0]
    assert rule.sensitivity == 0.75
    page = client.get(f"/radar/rules?edit={rule.id}").text
    assert 'value="0,75"' in page and "sensibilité 0,75" in page


def test_without_javascript_a_changed_kind_brings_its_fields_before_saving(
    client: Any, build: Any, workspace: int
) -> None:
    client = _manager(client, build)
    form = {"name": "Volume", "kind": "volume", "fields_of": "smart", "sensitivity": "0,5"}
    page = client.submit("/radar/rules", form, follow_redirects=False)
    assert page.status_code == 200
    assert 'name="threshold"' in page.text and 'name="sensitivity"' not in page.text
    assert 'value="Volume"' in page.text
    assert build.all(AlertRule) == []


def test_a_backtest_reads_a_one_bucket_firing_as_one_time_and_its_length(
    client: Any, build: Any, workspace: int, factory: sessionmaker[Session]
) -> None:
    from clameur.radar.series import bucket_start

    start = bucket_start(utcnow() - timedelta(hours=3))
    build.store(
        workspace,
        [build.post(created_at=start + timedelta(minutes=1 + i), lang="fr") for i in range(3)],
    )
    run_pass(factory)
    client = _manager(client, build)
    form = {"name": "Pic", "kind": "volume", "threshold": "3", "window_minutes": "5"}
    trial = client.submit("/radar/rules/backtest", form).text
    assert "se serait déclenchée 1 fois" in trial
    assert "(5 min)" in trial and "→" not in trial


def test_an_alert_chart_shades_the_alert_and_marks_where_the_rule_fired(
    client: Any, build: Any, workspace: int, factory: sessionmaker[Session]
) -> None:
    _recent_posts(build, workspace)
    with factory() as session, session.begin():
        session.add(
            AlertRule(
                workspace_id=workspace,
                name="Grogne",
                kind="negative_share",
                threshold=30,
                window_minutes=60,
                min_volume=2,
            )
        )
    run_pass(factory)
    alert = build.all(Alert)[0]
    client = _manager(client, build)
    page = client.get(f"/radar/alerts/{alert.id}").text
    share = page[page.index('class="chart chart-share"') :]
    assert 'class="chart-span"' in share and 'class="chart-guide"' in share
    assert 'class="chart-marker"' in share
    assert "Au-dessus du seuil" in page or "Above the threshold" in page
    # The radar page lists in its legend only what its chart draws.
    radar = client.get("/radar?period=24h").text
    legend = radar[
        radar.index('class="chart-legend') : radar.index("</ul>", radar.index("chart-legend"))
    ]
    assert ("Anomalie" in legend) == ('class="chart-marker"' in radar)
