"""What the analysis says about a post, on its card: sentiment, intents, hostility, near-duplicates
and the author's influence; and the listening filters on sentiment, intent and hostility."""

from __future__ import annotations

import html
import re

from clameur.models import Post

REASONS = [
    ["followers", {"count": 12500, "points": 35.1}],
    ["verified", {"points": 10.0}],
    ["engagement", {"interactions": 400, "rate": 0.0317, "level": "high", "points": 21.3}],
]


def _card(page: str, post_id: int) -> str:
    start = page.index(f'id="post-{post_id}"')
    return page[start : page.index("</article>", start)]


def _tooltip(page: str, post_id: int) -> str:
    found = re.search(rf'id="influence-{post_id}">([^<]*)<', page)
    assert found, "no influence explanation on the card"
    return html.unescape(found.group(1))


def test_a_post_shows_its_sentiment_and_intents_in_the_interface_language(agent, build, workspace):
    [post_id] = build.store(
        workspace, [build.post(sentiment="negative", intents=["complaint", "purchase_intent"])]
    )
    card = _card(agent.get("/listening").text, post_id)
    assert 'class="sentiment sentiment-negative"' in card
    assert "Négatif" in card
    assert '<span class="intent">Réclamation</span>' in card
    assert '<span class="intent">Intention d’achat</span>' in card


def test_the_sentiment_chip_shows_the_model_score_on_hover(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="positive")])
    build.update(Post, post_id, sentiment_score=0.87)
    card = _card(agent.get("/listening").text, post_id)
    assert 'title="Score du modèle : 0,87"' in card


def test_a_hostile_post_carries_a_hostile_badge(agent, build, workspace):
    hostile, calm = build.store(workspace, [build.post(), build.post()])
    build.update(Post, hostile, hostile=True)
    build.update(Post, calm, hostile=False)
    page = agent.get("/listening").text
    assert 'class="hostile"' in _card(page, hostile)
    assert 'class="hostile"' not in _card(page, calm)


def test_an_original_shows_the_size_of_its_group(agent, build, workspace):
    [original] = build.store(workspace, [build.post()])
    build.update(Post, original, duplicate_count=4)
    card = _card(agent.get("/listening").text, original)
    assert "×4 copies" in card
    assert f'href="/posts/{original}"' in card


def test_a_near_duplicate_links_to_its_original(agent, build, workspace):
    original, copy = build.store(workspace, [build.post(), build.post()])
    build.update(Post, copy, duplicate_of_id=original)
    card = _card(agent.get("/listening").text, copy)
    assert f'Copie d’<a href="/posts/{original}">une publication antérieure</a>' in card


def test_the_page_of_an_original_lists_its_near_duplicates(agent, build, workspace):
    texts = ["Win a phone now", "Win a phone today", "Win a phone here", "Lovely weather"]
    original, first, second, other = build.store(workspace, [build.post(text=t) for t in texts])
    build.update(Post, original, duplicate_count=3, duplicate_of_id=None)
    build.update(Post, first, duplicate_of_id=original)
    build.update(Post, second, duplicate_of_id=original)
    build.update(Post, other, duplicate_of_id=None)
    page = agent.get(f"/posts/{original}")
    assert page.status_code == 200
    assert agent.post_ids(page.text) == [original, second, first]
    assert "Cette publication et 2 quasi-doublons, regroupés." in page.text


def test_the_influence_is_explained_in_french_to_a_french_user(client, build, workspace):
    build.user(locale="fr")
    client.sign_in()
    [post_id] = build.store(workspace, [build.post()])
    build.update(Post, post_id, influence=72.4, enrichments={"influence": {"reasons": REASONS}})
    page = client.get("/listening").text
    assert "Influence 72" in _card(page, post_id)
    assert _tooltip(page, post_id) == (
        "12,5\u00a0k abonnés, compte certifié, engagement élevé (400 interactions, "
        "3,2\u202f% de l'audience)"
    )


def test_the_influence_is_explained_in_english_to_an_english_user(client, build, workspace):
    build.user(locale="en")
    client.sign_in()
    [post_id] = build.store(workspace, [build.post()])
    build.update(Post, post_id, influence=72.4, enrichments={"influence": {"reasons": REASONS}})
    assert _tooltip(client.get("/listening").text, post_id) == (
        "12.5K followers, verified, high engagement (400 interactions, 3.2% of the audience)"
    )


def test_the_sentiment_filter_keeps_only_that_sentiment(agent, build, workspace):
    positive, negative, neutral = build.store(
        workspace,
        [
            build.post(sentiment="positive"),
            build.post(sentiment="negative"),
            build.post(sentiment="neutral"),
        ],
    )
    page = agent.get("/listening", params={"sentiment": "negative"}).text
    assert agent.post_ids(page) == [negative]


def test_the_intent_filter_keeps_only_that_intent(agent, build, workspace):
    question, complaint, both = build.store(
        workspace,
        [
            build.post(sentiment="neutral", intents=["question"]),
            build.post(sentiment="neutral", intents=["complaint"]),
            build.post(sentiment="neutral", intents=["question", "complaint"]),
        ],
    )
    page = agent.get("/listening", params={"intent": "complaint"}).text
    assert agent.post_ids(page) == [complaint, both]


def test_the_sentiment_filter_narrows_the_whole_ad_hoc_query(agent, build, workspace):
    tea, coffee, _negative_tea = build.store(
        workspace,
        [
            build.post(text="green tea", sentiment="positive"),
            build.post(text="black coffee", sentiment="positive"),
            build.post(text="cold tea", sentiment="negative"),
        ],
    )
    page = agent.get("/listening", params={"q": "tea OR coffee", "sentiment": "positive"}).text
    assert agent.post_ids(page) == [tea, coffee]


def test_a_syntax_error_still_points_into_the_query_typed_when_a_filter_is_set(
    agent, build, workspace
):
    build.store(workspace, [build.post(sentiment="positive")])
    response = agent.get("/listening", params={"q": "cafe AND (lait", "sentiment": "positive"})
    assert response.status_code == 200
    assert "ligne 1, colonne 10" in response.text


def test_an_unknown_sentiment_in_the_address_is_ignored(agent, build, workspace):
    stored = build.store(
        workspace, [build.post(sentiment="positive"), build.post(sentiment="negative")]
    )
    page = agent.get("/listening", params={"sentiment": "furious"}).text
    assert agent.post_ids(page) == stored


def test_hiding_hostile_posts_leaves_them_out(agent, build, workspace):
    calm, hostile, unknown = build.store(workspace, [build.post(), build.post(), build.post()])
    build.update(Post, calm, hostile=False)
    build.update(Post, hostile, hostile=True)
    build.update(Post, unknown, hostile=None)
    page = agent.get("/listening", params={"hide_hostile": "1"}).text
    assert agent.post_ids(page) == [calm, unknown]
    assert 'name="hide_hostile" value="1" form="listen" checked' in page


def test_hiding_hostile_posts_still_fills_a_page(agent, build, workspace):
    first, hostile, second, third = build.store(
        workspace, [build.post(), build.post(), build.post(), build.post()]
    )
    for post_id in (first, second, third):
        build.update(Post, post_id, hostile=False)
    build.update(Post, hostile, hostile=True)
    listed = agent.get("/api/v1/posts", params={"hide_hostile": "true", "limit": 2}).json()
    assert [item["id"] for item in listed["items"]] == [first, second]
    params = {"hide_hostile": "true", "limit": 2, "cursor": listed["next_cursor"]}
    following = agent.get("/api/v1/posts", params=params).json()
    assert [item["id"] for item in following["items"]] == [third]


def test_the_api_filters_posts_by_sentiment_and_intent(agent, build, workspace):
    build.store(workspace, [build.post(sentiment="positive", intents=["question"])])
    [wanted] = build.store(workspace, [build.post(sentiment="negative", intents=["question"])])
    build.store(workspace, [build.post(sentiment="negative", intents=["complaint"])])
    params = {"sentiment": "negative", "intent": "question"}
    assert [item["id"] for item in agent.get("/api/v1/posts", params=params).json()["items"]] == [
        wanted
    ]


def test_a_listed_post_carries_its_analysis(agent, build, workspace):
    original, copy = build.store(workspace, [build.post(), build.post()])
    build.update(Post, original, duplicate_count=2, influence=41.5, hostile=False)
    build.update(Post, copy, duplicate_of_id=original, sentiment_score=0.9, hostile=True)
    items = {item["id"]: item for item in agent.get("/api/v1/posts").json()["items"]}
    assert items[original]["duplicate_count"] == 2
    assert items[original]["influence"] == 41.5
    assert items[original]["hostile"] is False
    assert items[copy]["duplicate_of_id"] == original
    assert items[copy]["sentiment_score"] == 0.9
    assert items[copy]["hostile"] is True
