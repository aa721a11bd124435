"""Connector settings are encrypted at rest, masked on display, and never printed or logged."""

from __future__ import annotations

import logging

import pytest

from clameur.connectors.base import AuthError, mask_secret
from clameur.connectors.bluesky import BlueskyConfig
from clameur.connectors.mastodon import MastodonConfig
from clameur.connectors.secrets import SecretBox, SecretKeyMissing, SecretKeyWrong
from clameur.settings import Settings

TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
KEY = "a-long-random-installation-secret-0123456789"


def mastodon_config() -> MastodonConfig:
    return MastodonConfig(
        instance_url="mastodon.social",
        access_token=TOKEN,
        hashtags=["#clameur"],
        client_id="client",
        client_secret="client-secret-abcdefghijkl",
    )


def test_settings_decrypt_to_what_was_encrypted_and_the_token_is_not_in_clear() -> None:
    box = SecretBox(KEY)

    sealed = box.encrypt(mastodon_config())
    opened = box.decrypt(sealed, MastodonConfig)

    assert TOKEN not in sealed and "client-secret" not in sealed
    assert opened.access_token is not None and opened.access_token.get_secret_value() == TOKEN
    assert opened.instance_url == "https://mastodon.social"
    assert opened.hashtags == ["clameur"]


def test_a_missing_key_says_which_setting_to_set() -> None:
    with pytest.raises(SecretKeyMissing, match="CLAMEUR_CONNECTORS__SECRET_KEY"):
        SecretBox.from_settings(Settings(_env_file=None))


def test_the_key_comes_from_the_settings_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAMEUR_CONNECTORS__SECRET_KEY", KEY)
    sealed = SecretBox(KEY).encrypt(mastodon_config())

    opened = SecretBox.from_settings(Settings(_env_file=None)).decrypt(sealed, MastodonConfig)

    assert opened.client_id == "client"


def test_a_wrong_key_is_a_clear_error_and_a_previous_key_still_opens() -> None:
    sealed = SecretBox(KEY).encrypt(mastodon_config())

    with pytest.raises(SecretKeyWrong, match="not the key they were saved with"):
        SecretBox("another-installation-secret-0123456789").decrypt(sealed, MastodonConfig)
    rotated = SecretBox("the-new-installation-secret-0123456789", previous=[KEY])
    resealed = rotated.reseal(sealed)
    assert rotated.decrypt(resealed, MastodonConfig).client_id == "client"
    assert resealed != sealed


def test_secrets_never_appear_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    config = mastodon_config()
    bluesky = BlueskyConfig(handle="brand.bsky.social", app_password="abcd-efgh-ijkl-mnop")
    box = SecretBox(KEY)
    logger = logging.getLogger("clameur.test")

    with caplog.at_level(logging.DEBUG):
        logger.info("config %s %r", config, config)
        logger.info("bluesky %s %r %s", bluesky, bluesky, bluesky.model_dump())
        logger.info("box %r", box)
        logger.info("error %s", AuthError("token refused", "mastodon"))

    printed = " ".join([repr(config), str(config), repr(bluesky), repr(box), caplog.text])
    for secret in (TOKEN, "client-secret-abcdefghijkl", "abcd-efgh-ijkl-mnop", KEY):
        assert secret not in printed


def test_masked_settings_show_at_most_the_last_four_characters() -> None:
    masked = mastodon_config().masked()

    assert masked["access_token"] == "••••tlL0"
    assert masked["client_secret"] == "••••ijkl"
    assert masked["instance_url"] == "https://mastodon.social"
    assert mask_secret("short-one") == "••••"


def test_the_settings_form_lists_fields_with_secrets_marked_and_keeps_blank_secrets() -> None:
    fields = {field.name: field for field in MastodonConfig.form_fields()}
    previous = mastodon_config()

    updated = MastodonConfig.from_form(
        {"instance_url": "https://mastodon.social", "access_token": "", "hashtags": "a\n#b\n"},
        previous=previous,
    )

    assert list(fields) == [
        "instance_url",
        "access_token",
        "hashtags",
        "searches",
        "mentions",
        "local_only",
        "stream",
    ]
    assert fields["stream"].kind == "checkbox" and fields["stream"].default is False
    assert fields["access_token"].secret and not fields["instance_url"].secret
    assert fields["hashtags"].kind == "lines" and fields["mentions"].kind == "checkbox"
    assert fields["instance_url"].title == "Server" and fields["instance_url"].required
    assert "client_secret" not in fields
    assert MastodonConfig.requirements.startswith("An account on a Mastodon server")
    assert updated.access_token is not None and updated.access_token.get_secret_value() == TOKEN
    assert updated.hashtags == ["a", "b"] and updated.mentions is False
    assert updated.client_id == "client"
