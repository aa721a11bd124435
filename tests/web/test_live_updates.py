"""New posts reach the listening page while it is open (HTMX polls a partial)."""

from __future__ import annotations

import html
import re

POLLER = re.compile(r'hx-get="(/listening/new\?[^"]+)" hx-trigger="every 5s"')


def poll_url(page: str) -> str:
    match = POLLER.search(page)
    assert match, "the page does not poll for new posts"
    return html.unescape(match.group(1))


def test_polling_returns_only_the_posts_newer_than_the_newest_shown(agent, build, workspace):
    shown = build.store(workspace, [build.post(created_at=build.at(minutes=-m)) for m in (1, 2)])
    url = poll_url(agent.get("/listening").text)
    fresh = build.store(
        workspace,
        [build.post(created_at=build.at(minutes=2)), build.post(created_at=build.at())],
    )
    late = build.store(workspace, [build.post(created_at=build.at(hours=-1))])
    response = agent.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert agent.post_ids(response.text) == fresh
    assert not set(shown + late) & set(agent.post_ids(response.text))
    assert "is-new" in response.text


def test_polling_answers_204_when_nothing_new_arrived(agent, build, workspace):
    build.store(workspace, [build.post()])
    url = poll_url(agent.get("/listening").text)
    assert agent.get(url, headers={"HX-Request": "true"}).status_code == 204


def test_the_next_poll_starts_after_the_posts_just_received(agent, build, workspace):
    build.store(workspace, [build.post(created_at=build.at())])
    url = poll_url(agent.get("/listening").text)
    build.store(workspace, [build.post(created_at=build.at(minutes=1))])
    next_url = poll_url(agent.get(url).text)
    [newest] = build.store(workspace, [build.post(created_at=build.at(minutes=2))])
    assert agent.post_ids(agent.get(next_url).text) == [newest]


def test_polling_keeps_the_page_filters(agent, build, workspace):
    build.store(workspace, [build.post(created_at=build.at(), network="x")])
    url = poll_url(agent.get("/listening?network=reddit").text)
    build.store(workspace, [build.post(created_at=build.at(minutes=1), network="x")])
    [on_reddit] = build.store(
        workspace, [build.post(created_at=build.at(minutes=1), network="reddit")]
    )
    assert agent.post_ids(agent.get(url).text) == [on_reddit]


def test_polling_counts_the_new_posts(agent, build, workspace):
    build.store(workspace, [build.post(created_at=build.at())])
    url = poll_url(agent.get("/listening").text)
    build.store(workspace, [build.post(created_at=build.at(minutes=n)) for n in (1, 2, 3)])
    assert "3 nouvelles publications" in agent.get(url).text


def test_an_empty_page_receives_the_first_posts_that_arrive(agent, build, workspace):
    url = poll_url(agent.get("/listening").text)
    [first] = build.store(workspace, [build.post(created_at=build.at(days=-30))])
    assert agent.post_ids(agent.get(url).text) == [first]
