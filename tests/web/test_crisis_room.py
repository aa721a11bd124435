"""The crisis room says which figures count from the crisis's start and which rows came before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clameur.kit.time import utcnow
from clameur.models import CrisisMode, Role
from clameur.radar.service import run_pass


def test_the_report_counts_from_the_start_and_greys_the_hours_before(
    client: Any, build: Any, workspace: int, factory: Any
) -> None:
    now = utcnow()
    build.store(
        workspace,
        [
            build.post(created_at=now - timedelta(hours=3, minutes=i), text=f"avant {i}", lang="fr")
            for i in range(5)
        ],
    )
    run_pass(factory)
    build.user("mia@example.com", Role.manager, "Mia Manager")
    assert client.sign_in("mia@example.com").status_code == 303
    client.submit("/radar/crisis/start", {"reason": "Panne"}, follow_redirects=False)
    client.submit("/radar/crisis/end", follow_redirects=False)
    crisis = build.all(CrisisMode)[0]
    page = client.get(f"/radar/crisis/{crisis.id}").text
    assert "Publications pendant la crise" in page
    assert "Heure la plus chargée" in page
    assert "commence six heures avant la crise" in page
    # The five posts three hours before are in the timeline, in a row marked as before the crisis.
    assert crisis.report is not None and crisis.report["volume"] == 0
    assert '<li class="timeline-row muted">' in page
    assert '<li class="timeline-row">' in page
