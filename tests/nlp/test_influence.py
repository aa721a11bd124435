from hypothesis import given
from hypothesis import strategies as st

from clameur.nlp.influence import ENRICHER_NAME, ENRICHER_VERSION, Influence, influence

counts = st.integers(min_value=0, max_value=10**9)
metrics = st.one_of(
    st.none(),
    st.fixed_dictionaries({"likes": counts, "shares": counts, "replies": counts}),
)


@given(followers=st.integers(min_value=-10, max_value=10**10), verified=st.booleans(), m=metrics)
def test_the_score_stays_between_0_and_100(
    followers: int, verified: bool, m: dict[str, int] | None
) -> None:
    assert 0.0 <= influence(followers, verified, m).score <= 100.0


@given(a=counts, b=counts, verified=st.booleans(), m=metrics)
def test_more_followers_never_lower_the_score(
    a: int, b: int, verified: bool, m: dict[str, int] | None
) -> None:
    low, high = sorted((a, b))

    assert influence(low, verified, m).score <= influence(high, verified, m).score


@given(
    followers=counts,
    verified=st.booleans(),
    base=st.fixed_dictionaries({"likes": counts, "shares": counts, "replies": counts}),
    metric=st.sampled_from(["likes", "shares", "replies"]),
    more=st.integers(min_value=0, max_value=10**9),
)
def test_more_engagement_never_lowers_the_score(
    followers: int, verified: bool, base: dict[str, int], metric: str, more: int
) -> None:
    boosted = {**base, metric: base[metric] + more}

    assert (
        influence(followers, verified, base).score <= influence(followers, verified, boosted).score
    )


def test_more_followers_raise_the_score() -> None:
    scores = [influence(f, False, None).score for f in (0, 10, 1_000, 100_000, 10_000_000)]

    assert scores == sorted(scores)
    assert len(set(scores)) == len(scores)
    assert scores[0] == 0.0
    assert scores[-1] == 60.0


def test_verification_adds_ten_points() -> None:
    plain = influence(5_000, False, {"likes": 40})
    verified = influence(5_000, True, {"likes": 40})

    assert verified.score == round(plain.score + 10, 1)
    assert ("verified", {"points": 10.0}) in verified.reasons
    assert all(code != "verified" for code, _ in plain.reasons)


def test_engagement_is_measured_against_the_audience() -> None:
    same_interactions = {"likes": 200}

    small = influence(1_000, False, same_interactions).reasons[-1][1]
    large = influence(1_000_000, False, same_interactions).reasons[-1][1]

    assert small["level"] == "very_high"
    assert large["level"] == "low"
    assert small["points"] > large["points"]


def test_a_share_counts_twice_and_known_aliases_are_read() -> None:
    shares = influence(1_000, False, {"shares": 5})
    likes = influence(1_000, False, {"likes": 10})
    retweets = influence(1_000, False, {"retweets": 5})

    assert shares.score == likes.score == retweets.score
    assert shares.reasons[-1][1]["interactions"] == 10


def test_without_metrics_there_is_no_engagement_part() -> None:
    for unknown in (None, {}, {"views": 1_000}):
        result = influence(250, False, unknown)
        assert [code for code, _ in result.reasons] == ["followers"]
    none = influence(250, False, {"likes": 0, "shares": 0})
    assert none.reasons[-1] == (
        "engagement",
        {"interactions": 0, "rate": 0.0, "level": "none", "points": 0.0},
    )


def test_the_most_influential_author_scores_100() -> None:
    assert influence(50_000_000, True, {"likes": 10**8}).score == 100.0


def test_the_explanation_reads_in_english_and_in_french() -> None:
    result = influence(48_000, True, {"likes": 900, "shares": 100, "replies": 100})

    assert result.score == 70.7
    assert result.explain() == (
        "48K followers, verified, high engagement (1.2K interactions, 2.5% of the audience)"
    )
    assert result.explain("fr_FR") == (
        "48\xa0k abonnés, compte certifié, engagement élevé "
        "(1,2\xa0k interactions, 2,5\u202f% de l'audience)"
    )


def test_the_explanation_agrees_in_number() -> None:
    assert influence(1, False, {"likes": 0}).explain("en") == "1 follower, no interactions"
    assert influence(0, False, None).explain("fr") == "0 abonné"
    assert influence(2, False, None).explain("fr") == "2 abonnés"


def test_the_result_is_an_influence_with_its_enricher_name_and_version() -> None:
    assert isinstance(influence(10, False, None), Influence)
    assert ENRICHER_NAME == "influence"
    assert ENRICHER_VERSION
