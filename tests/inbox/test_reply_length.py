"""Per-network length checks: X weighs characters as twitter-text does (280 at most)."""

from __future__ import annotations

import pytest

from clameur.inbox.compose import check_body
from clameur.inbox.length import reply_length, x_weighted_length
from clameur.kit.errors import ClameurError


def test_a_link_counts_23_on_x_whatever_its_length() -> None:
    link = "https://example.com/" + "a" * 200
    assert x_weighted_length(f"voir {link}") == 5 + 23
    assert x_weighted_length("www.lueurs.fr/billets") == 23


def test_cjk_characters_and_emoji_weigh_two_on_x() -> None:
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("merci 👍") == 6 + 2
    assert x_weighted_length("👍🏽") == 2  # with its skin tone
    assert x_weighted_length("👨‍👩‍👧") == 2  # a family joined by zero-width joiners
    assert x_weighted_length("🇫🇷") == 2  # a flag
    assert x_weighted_length("éàç") == 3  # Latin letters weigh one


def test_other_networks_count_characters() -> None:
    assert reply_length("mastodon", "日本語 https://example.com/long") == 3 + 1 + 24


def test_x_refuses_141_cjk_characters_and_accepts_280_latin_ones() -> None:
    assert check_body("x", "a" * 280) == "a" * 280
    with pytest.raises(ClameurError, match="282 characters"):
        check_body("x", "漢" * 141)
    assert check_body("x", "漢" * 140)
    long_link = "https://example.com/" + "b" * 400
    assert check_body("x", f"{'a' * 250} {long_link}")
