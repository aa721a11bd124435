"""Connecting an X account: OAuth 2.0 authorization code flow with PKCE.

- Authorization, `https://x.com/i/oauth2/authorize` with `response_type=code`, the scopes,
  `state`, and a PKCE `code_challenge` (method S256)
  (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token);
- token, `POST /2/oauth2/token` with `grant_type=authorization_code`, the `code_verifier` and
  the app's client id; confidential apps (Web App, Automated App or Bot) also send their id
  and secret in a Basic `Authorization` header
  (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code).

With `offline.access` the answer carries a refresh token: the access token lasts two hours and
`XConnector.refresh` renews it (X rotates the refresh token each time; the connector hands the
new pair back through `updated_config()`).

The web page keeps the `AuthorizationRequest` (state and verifier) in the user's session between
the redirect and the callback, and checks `state` on the way back.
"""

from __future__ import annotations

import httpx

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.oauth import (
    AuthorizationRequest,
    apply_token,
    approval_request,
    check_state,
    code_challenge,
    code_grant,
)
from clameur.connectors.x.connector import NETWORK, SCOPES, XConfig, XConnector

__all__ = ["AuthorizationRequest", "authorization_request", "code_challenge", "exchange_code"]

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"


def authorization_request(
    config: XConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """X's approval page for the app, with a fresh state and PKCE verifier."""
    return approval_request(
        authorize_url,
        redirect_uri,
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
        },
    )


def exchange_code(
    config: XConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    transport: httpx.BaseTransport | None = None,
) -> XConfig:
    """`config` with the tokens X gives for the approval `code`, and the account's id and
    username."""
    check_state(request, state, NETWORK, "X")
    connector = XConnector(config, transport=transport)
    try:
        try:
            body = connector.token_request(code_grant(request, code))
        except (AuthError, PermanentError) as error:
            raise AuthError(
                f"X refused the approval code ({error.message}). Check the Client ID and "
                "Secret, then start connecting the account again.",
                NETWORK,
            ) from None
        connector.config = apply_token(config, body, NETWORK)
        connector.check()
        return connector.config
    finally:
        connector.close()
