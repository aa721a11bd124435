"""The OAuth 2.0 pieces the networks share: approval request, state check, token answer."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from clameur.connectors.base import AuthError, ConnectorConfig, PermanentError
from clameur.connectors.oauth import (
    AuthorizationRequest,
    apply_token,
    approval_request,
    check_state,
    code_challenge,
    code_grant,
)
from clameur.kit.time import utcnow


class TokenConfig(ConnectorConfig):
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    token_expires_at: object = None


def test_a_request_kept_in_the_session_as_its_fields_is_rebuilt_unchanged() -> None:
    for pkce in (True, False):
        request = approval_request("https://n.example/authorize", "https://c/cb", {}, pkce=pkce)
        kept = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}

        assert AuthorizationRequest(**kept) == request
        assert bool(request.code_verifier) is pkce
        # The state is in the approval address anyway; the verifier must never show.
        assert not request.code_verifier or request.code_verifier not in repr(request)


def test_the_approval_page_carries_the_state_and_the_challenge_of_the_verifier() -> None:
    request = approval_request(
        "https://n.example/authorize", "https://c/cb", {"client_id": "app", "scope": "read"}
    )

    query = parse_qs(urlsplit(request.url).query)
    assert query["client_id"] == ["app"] and query["state"] == [request.state]
    assert query["code_challenge"] == [code_challenge(request.code_verifier)]
    assert query["code_challenge_method"] == ["S256"]
    assert code_grant(request, "c0de")["code_verifier"] == request.code_verifier


def test_a_callback_with_another_state_is_refused() -> None:
    request = approval_request("https://n.example/authorize", "https://c/cb", {}, pkce=False)

    check_state(request, request.state, "n", "N")
    with pytest.raises(AuthError, match="state differs"):
        check_state(request, "forged", "n", "N")
    assert "code_verifier" not in code_grant(request, "c0de")


def test_a_token_answer_sets_the_tokens_and_their_end() -> None:
    config = apply_token(
        TokenConfig(refresh_token=SecretStr("old")),
        {"access_token": "a1", "expires_in": 3600},
        "n",
    )

    assert config.access_token is not None and config.access_token.get_secret_value() == "a1"
    assert config.refresh_token is not None and config.refresh_token.get_secret_value() == "old"
    assert isinstance(config.token_expires_at, type(utcnow()))
    assert config.token_expires_at - utcnow() > timedelta(minutes=59)
    with pytest.raises(PermanentError, match="access_token"):
        apply_token(config, {"token_type": "bearer"}, "n")
