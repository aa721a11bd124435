from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clameur.inbox.priority import Priority, explain, level_of, score_priority


def priority(**overrides: object) -> Priority:
    """The priority of a conversation: a neutral post with no intent, unless told otherwise."""
    values: dict[str, object] = {
        "sentiment": "neutral",
        "intents": [],
        "influence": None,
        "followers": 0,
        "engagement": 0,
        "age": timedelta(hours=1),
        "waiting": timedelta(0),
    }
    values.update(overrides)
    return score_priority(**values)  # type: ignore[arg-type]


ANGRY_CUSTOMER = {
    "sentiment": "negative",
    "intents": ["complaint"],
    "followers": 48_000,
    "age": timedelta(hours=3),
    "waiting": timedelta(hours=2),
}


def test_a_negative_complaint_from_a_large_account_waiting_two_hours_is_urgent():
    angry = priority(**ANGRY_CUSTOMER)
    assert angry.level == "urgent"
    assert 75 <= angry.score <= 100


def test_a_negative_complaint_outranks_praise_from_the_same_author():
    angry = priority(**ANGRY_CUSTOMER)
    praise = priority(**{**ANGRY_CUSTOMER, "sentiment": "positive", "intents": ["praise"]})
    assert angry.score > praise.score
    assert praise.level in {"low", "normal"}


def test_intents_rank_complaint_question_purchase_praise_spam():
    scores = [
        priority(intents=[intent]).score
        for intent in ("complaint", "question", "purchase_intent", "praise", "spam")
    ]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 5


def test_the_strongest_intent_counts_once():
    assert (
        priority(intents=["question", "complaint"]).score == priority(intents=["complaint"]).score
    )


def test_spam_stays_low_whatever_else_it_has():
    spam = priority(**{**ANGRY_CUSTOMER, "intents": ["spam", "complaint"]})
    assert spam.level == "low"
    assert spam.reasons[0] == ("spam", {})
    assert ("complaint", {}) not in spam.reasons


def test_a_negative_sentiment_raises_the_score():
    assert priority(sentiment="negative").score > priority(sentiment="neutral").score
    assert priority(sentiment=None).score == priority(sentiment="neutral").score


def test_an_unanswered_question_climbs_a_level_as_it_waits():
    fresh = priority(intents=["question"], followers=150, waiting=timedelta(minutes=5))
    stale = priority(intents=["question"], followers=150, waiting=timedelta(hours=4))
    assert (fresh.level, stale.level) == ("normal", "high")


def test_waiting_counts_no_more_after_four_hours():
    four_hours = priority(intents=["question"], waiting=timedelta(hours=4))
    two_days = priority(intents=["question"], waiting=timedelta(days=2))
    assert four_hours.score == two_days.score


def test_the_influence_score_is_used_when_known():
    assert priority(influence=90, followers=10).score > priority(influence=10, followers=10).score


def test_reasons_come_largest_first_with_their_values():
    angry = priority(**{**ANGRY_CUSTOMER, "engagement": 50, "age": timedelta(hours=4)})
    assert angry.reasons == [
        ("complaint", {}),
        ("followers", {"count": 48_000}),
        ("waiting", {"minutes": 120}),
        ("negative", {}),
        ("velocity", {"per_hour": 12.5}),
    ]


def test_parts_worth_less_than_a_point_are_no_reasons():
    quiet = priority(intents=["question"], followers=0, waiting=timedelta(seconds=30))
    assert quiet.reasons == [("question", {})]


def test_a_fresh_post_s_first_likes_are_not_read_as_a_landslide():
    fresh = priority(engagement=3, age=timedelta(seconds=10))
    assert ("velocity", {"per_hour": 12.0}) in fresh.reasons


@pytest.mark.parametrize(
    ("score", "level"),
    [(100, "urgent"), (75, "urgent"), (74, "high"), (50, "high"), (49, "normal"), (25, "normal")]
    + [(24, "low"), (0, "low")],
)
def test_levels_start_at_75_50_and_25(score, level):
    assert level_of(score) == level


def test_the_explanation_in_english():
    assert explain(priority(**ANGRY_CUSTOMER), "en") == "complaint, 48K followers, 2h waiting"


def test_the_explanation_in_french():
    # Babel's French: a no-break space before "k", a narrow no-break space before "h".
    assert (
        explain(priority(**ANGRY_CUSTOMER), "fr_FR")
        == "réclamation, 48\u00a0k abonnés, 2\u202fh d’attente"
    )


def test_the_explanation_can_give_every_reason():
    angry = priority(**{**ANGRY_CUSTOMER, "engagement": 50, "age": timedelta(hours=4)})
    assert explain(angry, "en", limit=5) == (
        "complaint, 48K followers, 2h waiting, negative, 12.5 interactions/h"
    )
    assert explain(angry, "fr", limit=5) == (
        "réclamation, 48\u00a0k abonnés, 2\u202fh d’attente, ton négatif, 12,5 interactions/h"
    )


def test_ninety_minutes_are_not_rounded_up_to_two_hours():
    waited = priority(intents=["question"], waiting=timedelta(minutes=90))
    assert explain(waited, "en") == "question, 90m waiting"
    assert explain(waited, "fr") == "question, 90\u00a0min d’attente"


def test_one_follower_is_singular_in_english_and_french():
    lonely = Priority(10, "low", [("followers", {"count": 1})])
    assert (explain(lonely, "en"), explain(lonely, "fr")) == ("1 follower", "1 abonné")


# -- properties ----------------------------------------------------------------------------

conversations = st.fixed_dictionaries(
    {
        "sentiment": st.sampled_from([None, "negative", "neutral", "positive"]),
        "intents": st.lists(
            st.sampled_from(["complaint", "question", "purchase_intent", "praise", "spam", "x"]),
            max_size=3,
        ),
        "influence": st.none() | st.floats(min_value=0, max_value=100),
        "followers": st.integers(min_value=0, max_value=10**9),
        "engagement": st.integers(min_value=0, max_value=10**7),
        "age": st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
        "waiting": st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    }
)


@given(conversations)
def test_the_score_stays_within_0_and_100_and_matches_its_level(conversation):
    result = score_priority(**conversation)
    assert 0 <= result.score <= 100
    assert result.level == level_of(result.score)
    if "spam" in conversation["intents"]:
        assert result.level == "low"


@given(conversations, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
def test_the_score_never_drops_as_the_customer_waits_longer(conversation, more):
    before = score_priority(**conversation)
    after = score_priority(**{**conversation, "waiting": conversation["waiting"] + more})
    assert after.score >= before.score


@given(conversations, st.integers(min_value=0, max_value=10**6))
def test_the_score_never_drops_as_engagement_grows(conversation, more):
    before = score_priority(**conversation)
    after = score_priority(**{**conversation, "engagement": conversation["engagement"] + more})
    assert after.score >= before.score


@given(conversations, st.integers(min_value=0, max_value=10**8))
def test_without_an_influence_score_more_followers_never_lower_the_score(conversation, more):
    conversation = {**conversation, "influence": None}
    before = score_priority(**conversation)
    after = score_priority(**{**conversation, "followers": conversation["followers"] + more})
    assert after.score >= before.score
