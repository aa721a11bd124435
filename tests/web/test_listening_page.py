"""The listening page: posts newest first, filters, search, ad-hoc queries, pages."""

from __future__ import annotations

import html
import re

LOAD_MORE = re.compile(r'hx-get="(/listening/posts\?[^"]+)"')


def test_the_page_lists_posts_newest_first(agent, build, workspace):
    old, new, middle = build.store(
        workspace,
        [
            build.post(created_at=build.at(hours=-3)),
            build.post(created_at=build.at(hours=-1)),
            build.post(created_at=build.at(hours=-2)),
        ],
    )
    page = agent.get("/listening")
    assert page.status_code == 200
    assert agent.post_ids(page.text) == [new, middle, old]


def test_the_home_page_is_the_listening_page(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    assert agent.post_ids(agent.get("/").text) == [post_id]


def test_a_post_shows_its_author_network_language_and_link(agent, build, workspace):
    build.store(
        workspace,
        [
            build.post(
                network="reddit",
                lang="fr",
                url="https://reddit.example/r/1",
                author={
                    "handle": "zoe",
                    "name": "Zoé Martin",
                    "followers": 12500,
                    "verified": True,
                },
            )
        ],
    )
    page = agent.get("/listening").text
    assert "Zoé Martin" in page
    assert "@zoe" in page
    assert "Compte vérifié" in page
    assert 'class="badge net net-reddit"' in page
    assert 'href="https://reddit.example/r/1"' in page
    assert ">FR<" in page


def test_load_more_walks_every_post_once_without_gaps(agent, build, workspace):
    # 120 posts, two by two on the same second, so the cursor must break ties by id.
    posts = [build.post(created_at=build.at(seconds=-(number // 2))) for number in range(120)]
    stored = build.store(workspace, posts)
    page = agent.get("/listening").text
    seen = agent.post_ids(page)
    pages = 1
    while match := LOAD_MORE.search(page):
        page = agent.get(html.unescape(match.group(1)), headers={"HX-Request": "true"}).text
        seen += agent.post_ids(page)
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert sorted(seen) == sorted(stored)


def test_a_network_filter_keeps_only_that_network(agent, build, workspace):
    on_x, on_reddit, on_mastodon = build.store(
        workspace,
        [build.post(network="x"), build.post(network="reddit"), build.post(network="mastodon")],
    )
    page = agent.get("/listening?network=reddit&network=mastodon").text
    assert agent.post_ids(page) == [on_reddit, on_mastodon]


def test_a_language_filter_keeps_only_that_language(agent, build, workspace):
    build.store(workspace, [build.post(lang="en")])
    [french] = build.store(workspace, [build.post(lang="fr")])
    assert agent.post_ids(agent.get("/listening?lang=fr").text) == [french]


def test_a_date_range_keeps_the_days_asked_for(agent, build, workspace):
    build.store(workspace, [build.post(created_at=build.at(days=-3))])
    [inside] = build.store(workspace, [build.post(created_at=build.at(days=-1))])
    build.store(workspace, [build.post(created_at=build.at(days=2))])
    day = build.at(days=-1).date().isoformat()
    assert agent.post_ids(agent.get(f"/listening?since={day}&until={day}").text) == [inside]


def test_searching_cafe_finds_the_post_that_says_cafe_with_an_accent(agent, build, workspace):
    [cafe] = build.store(workspace, [build.post(text="Un café crème au comptoir")])
    build.store(workspace, [build.post(text="Un thé vert")])
    assert agent.post_ids(agent.get("/listening?search=cafe").text) == [cafe]


def test_an_ad_hoc_query_keeps_the_posts_it_matches(agent, build, workspace):
    [refund] = build.store(workspace, [build.post(text="I want a refund now", lang="en")])
    build.store(workspace, [build.post(text="A refund is not what I want", lang="fr")])
    build.store(workspace, [build.post(text="Nothing to see", lang="en")])
    page = agent.get("/listening", params={"q": "refund AND lang:en"}).text
    assert agent.post_ids(page) == [refund]


def test_a_malformed_ad_hoc_query_shows_the_parser_message_where_it_fails(agent, build, workspace):
    build.store(workspace, [build.post()])
    response = agent.get("/listening", params={"q": "cafe AND (lait"})
    assert response.status_code == 200
    assert "parenthèse non fermée ou en trop" in response.text
    assert "ligne 1, colonne 10" in response.text
    assert "cafe AND (lait\n" in response.text
    assert " " * 9 + "^" in response.text
    assert agent.post_ids(response.text) == []


def test_a_saved_query_shows_only_the_posts_it_matched(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    [rainy] = build.store(workspace, [build.post(text="So much rain today")])
    build.store(workspace, [build.post(text="Sunny and warm")])
    page = agent.get(f"/listening?query_id={query_id}").text
    assert agent.post_ids(page) == [rainy]
    assert "Weather" in page


def test_a_saved_query_of_another_workspace_is_not_found(agent, build):
    other = build.workspace("other", "Other")
    query_id = build.query(other, "Secret", "rain")
    assert agent.get(f"/listening?query_id={query_id}").status_code == 404


def test_an_invalid_cursor_is_an_error_page_not_a_crash(agent, workspace):
    response = agent.get("/listening?cursor=not-a-cursor")
    assert response.status_code == 409
    assert "invalid page cursor" in response.text


def test_the_query_box_can_be_reached_with_the_slash_key(agent, workspace):
    page = agent.get("/listening").text
    assert 'id="query-box"' in page
    script = agent.get("/static/app.js").text
    assert 'event.key === "/"' in script and 'getElementById("query-box")' in script


def test_a_long_fruitless_search_offers_to_continue_from_where_it_stopped(
    agent, build, workspace, monkeypatch
):
    from clameur.listening import service

    monkeypatch.setattr(service, "SCAN_BUDGET", 200)
    build.store(
        workspace,
        [build.post(created_at=build.at(minutes=-n), sentiment="neutral") for n in range(1, 251)],
    )
    [old_match] = build.store(
        workspace, [build.post(created_at=build.at(days=-2), sentiment="positive")]
    )
    page = agent.get("/listening", params={"q": "sentiment:positive"}).text
    assert agent.post_ids(page) == []
    assert "Recherche effectuée jusqu’au" in page
    assert "Continuer la recherche" in page
    following = agent.get(html.unescape(LOAD_MORE.search(page).group(1))).text
    assert agent.post_ids(following) == [old_match]
