"""The demo stream: valid posts, a calm backlog, then a crisis that builds up live."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from clameur.connectors.demo import DEMO_USERS, DEMO_WORKSPACE, DemoStream
from clameur.connectors.demo.generator import crisis_share
from clameur.pipeline.schemas import NETWORKS, PostIn

START = datetime(2025, 7, 12, 17, 30, tzinfo=UTC)
# The real networks: the demo writes as they would, never as "demo" or "import".
ALLOWED_NETWORKS = set(NETWORKS) - {"demo", "import"}

Timed = list[tuple[float, dict[str, Any]]]


def run_live(stream: DemoStream, seconds: int, step: int = 2) -> Timed:
    """Drive the stream like the runner: every `step` seconds, as many posts as the rate says."""
    out: Timed = []
    budget = 0.0
    for elapsed in range(0, seconds, step):
        budget += stream.rate(elapsed) / 60.0 * step
        count, budget = int(budget), budget - int(budget)
        now = START + timedelta(seconds=elapsed)
        out.extend((elapsed, post) for post in stream.next_posts(now, elapsed, count))
    return out


@lru_cache(maxsize=4)
def session(seed: int = 2017) -> tuple[list[dict[str, Any]], Timed]:
    """A backlog of 3,000 posts, then 20 minutes of live stream."""
    stream = DemoStream(seed=seed, start=START)
    history = stream.history(3_000, START)
    return history, run_live(stream, 1_200)


def all_posts(seed: int = 2017) -> list[dict[str, Any]]:
    history, live = session(seed)
    return history + [post for _, post in live]


def crisis_fraction(posts: list[dict[str, Any]]) -> float:
    return sum(p["_demo_topic"].startswith("crisis_") for p in posts) / len(posts)


def test_every_history_and_live_post_validates_against_the_import_schema():
    posts = all_posts()
    for post in posts:
        parsed = PostIn.model_validate(post)
        assert parsed.author is not None and parsed.author.handle
    assert len(posts) > 5_000


def test_posts_leave_language_sentiment_and_intents_to_the_nlp():
    keys = set().union(*(post.keys() for post in all_posts()))
    assert not keys & {"lang", "sentiment", "intents"}
    assert {"_demo_topic", "_demo_lang", "conversation_id", "metrics"} <= keys


def test_ids_are_unique_across_history_and_live_and_carry_the_seed():
    ids = [post["id"] for post in all_posts()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"demo-2017-\d+", post_id) for post_id in ids)


def test_the_same_seed_and_the_same_calls_give_the_same_posts():
    first = DemoStream(seed=11, start=START)
    second = DemoStream(seed=11, start=START)
    assert first.history(500, START) == second.history(500, START)
    assert run_live(first, 120) == run_live(second, 120)


def test_a_different_seed_gives_different_posts():
    texts_a = [p["text"] for p in DemoStream(seed=1, start=START).history(200, START)]
    texts_b = [p["text"] for p in DemoStream(seed=2, start=START).history(200, START)]
    assert texts_a != texts_b


def test_history_is_spread_over_the_seven_days_before_end_in_order():
    history, _ = session()
    stamps = [PostIn.model_validate(p).created_at for p in history]
    assert stamps == sorted(stamps)
    assert stamps[-1] < START
    assert stamps[0] >= START - timedelta(days=7)
    assert len({stamp.date() for stamp in stamps}) >= 7


def test_history_is_calm_with_no_crisis():
    history, _ = session()
    assert crisis_fraction(history) < 0.04


def test_crisis_share_rises_from_a_trickle_to_a_flood_over_ten_minutes():
    _, live = session()
    first_minutes = [post for elapsed, post in live if elapsed < 120]
    after_ten = [post for elapsed, post in live if 600 <= elapsed < 900]
    assert crisis_fraction(first_minutes) < 0.15
    assert crisis_fraction(after_ten) > 0.45
    by_window = [
        crisis_fraction([post for elapsed, post in live if low <= elapsed < low + 120])
        for low in (0, 240, 480)
    ]
    assert by_window == sorted(by_window)


def test_crisis_stays_high_after_ten_minutes_with_waves():
    shares = [crisis_share(600 + second) for second in range(0, 1_200, 10)]
    assert min(shares) > 0.45
    assert max(shares) - min(shares) > 0.1
    _, live = session()
    assert crisis_fraction([post for elapsed, post in live if elapsed >= 900]) > 0.45


def test_refund_complaints_take_over_once_the_headliner_cancels():
    _, live = session()
    early = Counter(p["_demo_topic"] for elapsed, p in live if elapsed < 180)
    late = Counter(p["_demo_topic"] for elapsed, p in live if elapsed >= 600)
    assert early["crisis_refund"] < early["crisis_shuttle"] + early["crisis_entry"]
    assert late["crisis_refund"] > late["crisis_shuttle"]
    assert late["crisis_refund"] > late["crisis_food"]


def test_about_two_thirds_of_posts_are_written_in_french():
    langs = Counter(post["_demo_lang"] for post in all_posts())
    french = langs["fr"] / (langs["fr"] + langs["en"])
    assert set(langs) == {"fr", "en"}
    assert 0.58 <= french <= 0.75


def test_french_templates_carry_accents_and_elisions():
    french = " ".join(p["text"] for p in all_posts() if p["_demo_lang"] == "fr")
    assert "l'accueil" in french or "l’accueil" in french
    assert "remboursement" in french.lower()
    assert "navette" in french.lower()
    assert "é" in french


def test_reply_targets_exist_earlier_in_the_stream_on_the_same_network():
    posts = all_posts()
    seen: dict[str, dict[str, Any]] = {}
    replies = 0
    for post in posts:
        target = post["in_reply_to"]
        if target is not None:
            replies += 1
            assert target in seen
            parent = seen[target]
            assert parent["network"] == post["network"]
            assert post["created_at"] >= parent["created_at"]
            assert post["conversation_id"] == parent["conversation_id"]
        else:
            assert post["conversation_id"] == post["id"]
        seen[post["id"]] = post
    assert replies / len(posts) > 0.08


def test_the_brand_answers_some_complaints_from_its_own_accounts_and_signs():
    brand_handles = {
        (account["network"], account["handle"]) for account in DEMO_WORKSPACE["accounts"]
    }
    posts = {post["id"]: post for post in all_posts()}
    answers = [p for p in posts.values() if p["_demo_topic"] == "brand_reply"]
    assert answers
    for answer in answers:
        assert (answer["network"], answer["author"]["handle"]) in brand_handles
        assert answer["author"]["verified"] is True
        assert re.search(r"\^\w+$", answer["text"])
    answered = Counter(posts[a["in_reply_to"]]["_demo_topic"] for a in answers)
    assert sum(n for topic, n in answered.items() if topic.startswith("crisis_")) > 0
    french = [a for a in answers if a["_demo_lang"] == "fr"]
    assert len(french) > len(answers) / 2


def test_live_posts_are_stamped_between_the_previous_call_and_now():
    stream = DemoStream(seed=5, start=START)
    stream.history(50, START)
    previous = START
    for elapsed in (5, 10, 15, 60):
        now = START + timedelta(seconds=elapsed)
        for post in stream.next_posts(now, elapsed, 4):
            created = PostIn.model_validate(post).created_at
            assert previous - timedelta(seconds=1) <= created <= now
        previous = now


def test_rate_rises_during_the_crisis():
    stream = DemoStream(seed=3, start=START)
    assert stream.rate(0) > 0
    assert stream.rate(600) > 2 * stream.rate(0)
    assert min(stream.rate(s) for s in range(600, 2_400, 30)) > 1.5 * stream.rate(0)


def test_networks_are_known_and_urls_point_to_the_demo_domain():
    posts = all_posts()
    networks = Counter(post["network"] for post in posts)
    assert set(networks) <= ALLOWED_NETWORKS
    assert len(networks) >= 8
    for post in posts:
        assert post["url"] == f"https://demo.clameur.invalid/{post['network']}/{post['id']}"


def test_a_spam_wave_copies_and_pastes_the_same_text():
    stream = DemoStream(seed=2017, start=START)
    during_wave = stream.next_posts(START + timedelta(seconds=160), 160, 200)
    spam = [post["text"] for post in during_wave if post["_demo_topic"] == "spam"]
    assert len(spam) > 200 * 0.2
    stems = Counter(text.split(" #")[0] for text in spam)
    assert stems.most_common(1)[0][1] > len(spam) * 0.8


def test_outside_a_wave_spam_is_rare():
    stream = DemoStream(seed=2017, start=START)
    quiet = stream.next_posts(START + timedelta(seconds=60), 60, 400)
    assert sum(post["_demo_topic"] == "spam" for post in quiet) < 400 * 0.08


def test_authors_are_many_with_a_heavy_tail_and_a_few_verified():
    posts = all_posts()
    authors = {post["author"]["handle"]: post["author"] for post in posts}
    assert len(authors) > 200
    followers = sorted(author["followers"] for author in authors.values())
    median = followers[len(followers) // 2]
    assert followers[-1] > 50 * median
    verified = [a for a in authors.values() if a["verified"]]
    assert 3 <= len(verified) < len(authors) / 10


def test_competitors_are_talked_about():
    text = " ".join(post["text"].lower() for post in all_posts())
    for handle in ("cigalune", "mistral", "rivage"):
        assert handle in text


def test_workspace_has_the_brand_its_competitors_queries_and_demo_users():
    assert DEMO_WORKSPACE["timezone"] == "Europe/Paris"
    assert len(DEMO_WORKSPACE["competitors"]) == 3
    queries = DEMO_WORKSPACE["saved_queries"]
    assert len(queries) >= 8
    named = {q["competitor"] for q in queries if q["competitor"] is not None}
    assert named == set(DEMO_WORKSPACE["competitors"])
    assert all(q["query"].strip() and q["name"] for q in queries)
    roles = {user["role"] for user in DEMO_USERS}
    assert roles == {"admin", "manager", "agent", "viewer"}
    admin = next(user for user in DEMO_USERS if user["role"] == "admin")
    assert (admin["email"], admin["password"]) == ("demo@clameur.local", "clameur-demo")
