import pytest

from clameur.inbox.suggest import ReplyMemory, answer_key, reply_template

REFUND_REPLY = "@{who} Sorry about that! Please DM us your order number and we'll refund you. ^AB"
TRACKING_REPLY = (
    "@{who} Please share your tracking number by DM so we can locate your parcel. -Becky"
)
OPENING_REPLY = "@{who} The park opens at 9 every day of the week. *JK"


def make_memory(**overrides: object) -> ReplyMemory:
    """A memory of a few made-up answered messages about refunds, parcels and opening hours."""
    memory = ReplyMemory(**overrides)  # type: ignore[arg-type]
    memory.add("I want a refund for my broken order", REFUND_REPLY.format(who="u1"), author="u1")
    memory.add("refund please, the blender arrived broken", REFUND_REPLY.format(who="u2"))
    memory.add("where is my parcel? the tracking says nothing", TRACKING_REPLY.format(who="u3"))
    memory.add("my parcel is late, no tracking update", TRACKING_REPLY.format(who="u4"))
    memory.add("what time does the park open on sunday?", OPENING_REPLY.format(who="u5"))
    return memory


def test_a_refund_question_gets_the_refund_answer_first() -> None:
    suggestions = make_memory().suggest("Can I get a refund? My order is broken")
    assert suggestions[0].answer == answer_key(REFUND_REPLY.format(who="x"))
    assert "refund" in suggestions[0].inbound
    assert suggestions[0].similarity > suggestions[-1].similarity


def test_the_customer_handle_becomes_a_variable_and_the_signature_is_dropped() -> None:
    first = make_memory().suggest("refund for a broken order")[0]
    assert (
        first.reply
        == "{customer} Sorry about that! Please DM us your order number and we'll refund you."
    )


def test_the_inbound_author_handle_becomes_a_variable_anywhere_in_the_reply() -> None:
    template = reply_template("Thanks! @anna we have passed it on, @anna. ^ZZ", customer="@anna")
    assert template == "Thanks! {customer} we have passed it on, {customer}."


def test_a_greeting_name_becomes_a_variable() -> None:
    assert reply_template("@u9 Hi Paul, we are on it.") == "{customer} Hi {name}, we are on it."
    assert reply_template("Bonjour Élodie, c'est noté !") == "Bonjour {name}, c'est noté !"


def test_near_identical_replies_are_grouped_into_one_suggestion_with_their_uses() -> None:
    memory = ReplyMemory()
    memory.add("refund my order", "@u1 We'll refund order 1234 today. ^AB https://t.co/aaa")
    memory.add("refund my order please", "@u2 we'll REFUND order 98 today -Becky https://t.co/bbb")
    memory.add("refund my order now", "@u3 Refunds take 5 days.")
    suggestions = memory.suggest("refund my order")
    assert len(suggestions) == 2
    assert {s.uses for s in suggestions} == {2, 1}
    assert len({s.answer for s in suggestions}) == 2


def test_a_frequent_answer_beats_a_one_off_answer_to_an_equally_similar_message() -> None:
    memory = ReplyMemory(popularity=0.05)
    memory.add("is the shop open today", "@u1 Yes, until 8pm tonight.")
    for n in range(5):
        memory.add(f"shop open today? {n}", f"@u{n} Our hours are on our site.")
    assert memory.suggest("is the shop open today")[0].answer == answer_key(
        "Yes, until 8pm tonight."
    )
    memory.add("is the shop open today", "@u9 Our hours are on our site.")
    assert memory.suggest("is the shop open today")[0].answer == answer_key(
        "Our hours are on our site."
    )


def test_k_limits_the_number_of_suggestions() -> None:
    memory = make_memory()
    assert len(memory.suggest("refund parcel park open tracking", k=1)) == 1
    assert len(memory.suggest("refund parcel park open tracking", k=2)) == 2
    assert memory.suggest("refund", k=0) == []


def test_memory_keeps_only_the_most_recent_pairs() -> None:
    memory = ReplyMemory(capacity=3)
    memory.add("old question about refunds", "@u1 Old refund answer.")
    for n in range(3):
        memory.add(f"question number {n} about parcels", f"@u{n} Parcel answer {n}.")
    assert len(memory) == 3
    assert all("refund" not in s.inbound for s in memory.suggest("refunds question", k=5))


def test_memory_stays_right_past_capacity_and_sweeps() -> None:
    topics = ["parcels", "refunds", "hours", "tickets", "parking", "food", "music"]
    memory = ReplyMemory(capacity=100)
    for n in range(1_000):
        topic = topics[n % 7]
        memory.add(f"question {n} about {topic}", f"@u{n} Answer about {topic}.")
    assert len(memory) == 100
    suggestions = memory.suggest("question about tickets", k=3)
    assert suggestions[0].answer == "answer about tickets"
    assert suggestions[0].uses == sum(1 for n in range(900, 1_000) if n % 7 == 3)


def test_an_empty_memory_suggests_nothing() -> None:
    assert ReplyMemory().suggest("I want a refund") == []
    assert make_memory().suggest("") == []


def test_a_message_sharing_nothing_with_the_memory_gets_no_suggestion() -> None:
    assert make_memory().suggest("xylophone zebra") == []


def test_french_accents_and_case_are_folded() -> None:
    memory = ReplyMemory()
    memory.add("Je veux être REMBOURSÉ, le colis est arrivé cassé", "@u1 Écrivez-nous en MP. ^AB")
    memory.add("Quand ouvre le parc ?", "@u2 Le parc ouvre à 9 h.")
    suggestions = memory.suggest("je veux etre rembourse, le colis est arrive casse")
    assert suggestions[0].answer == answer_key("Écrivez-nous en MP.")
    assert suggestions[0].similarity == pytest.approx(1.0, abs=0.02)


def test_the_language_filter_keeps_only_pairs_in_that_language() -> None:
    memory = ReplyMemory()
    memory.add("refund please", "@u1 We will refund you.", lang="en")
    memory.add("refund svp", "@u2 Nous vous remboursons.", lang="fr")
    assert [s.answer for s in memory.suggest("refund", lang="fr")] == ["nous vous remboursons"]
    assert memory.suggest("refund", lang="de") == []


def test_the_conversation_being_answered_is_left_out() -> None:
    memory = ReplyMemory()
    memory.add("refund please", "@u1 We will refund you.", conversation="c1")
    memory.add("refund now", "@u2 Refunds take 5 days.", conversation="c2")
    found = memory.suggest("refund please", k=3, exclude_conversation="c1")
    assert [s.answer for s in found] == ["refunds take days"]


def test_the_answer_key_ignores_handles_links_numbers_signatures_and_case() -> None:
    a = answer_key("@u1 We'll refund order 1234 today. ^AB https://t.co/aaa")
    b = answer_key("@u2 we'll REFUND order 98 today -Becky https://t.co/bbb")
    assert a == b == "we ll refund order today"


def test_pairs_less_similar_than_the_floor_are_not_suggested() -> None:
    memory = make_memory()
    everything = memory.suggest("my order is broken, and where is the park?", k=5)
    assert len(everything) >= 2
    floor = (everything[0].similarity + everything[-1].similarity) / 2
    kept = memory.suggest("my order is broken, and where is the park?", k=5, min_similarity=floor)
    assert kept and all(s.similarity >= floor for s in kept)
    assert len(kept) < len(everything)
    assert memory.suggest("refund", min_similarity=1.01) == []


def test_handles_with_dots_and_servers_become_a_variable_whole() -> None:
    assert reply_template("@amelia.summer Hi! Please DM us.") == "{customer} Hi! Please DM us."
    assert reply_template("@ana@mas.to merci !") == "{customer} merci !"
    assert reply_template("Thanks @anna. See you", customer="anna") == "Thanks {customer}. See you"
    assert answer_key("@ana.bsky.social We are on it") == answer_key("@bob We are on it")


def test_an_accented_signature_is_dropped() -> None:
    assert reply_template("@u1 Le camping est inclus. ^Inès") == "{customer} Le camping est inclus."
