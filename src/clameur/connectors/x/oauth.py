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

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.x.connector import NETWORK, SCOPES, XConfig, XConnector, apply_token

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep until they come back (never shown)."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url!r}, state=<hidden>, code_verifier=<hidden>)"


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge of `verifier` (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_request(
    config: XConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """X's approval page for the app, with a fresh state and PKCE verifier."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return AuthorizationRequest(
        url=f"{authorize_url}?{query}",
        state=state,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
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
    if not secrets.compare_digest(state, request.state):
        raise AuthError(
            "The answer from X does not match the request Clameur made (state differs). Start "
            "connecting the account again.",
            NETWORK,
        )
    connector = XConnector(config, transport=transport)
    try:
        try:
            body = connector.token_request(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": request.redirect_uri,
                    "code_verifier": request.code_verifier,
                }
            )
        except (AuthError, PermanentError) as error:
            raise AuthError(
                f"X refused the approval code ({error.message}). Check the Client ID and "
                "Secret, then start connecting the account again.",
                NETWORK,
            ) from None
        connector.config = apply_token(config, body)
        connector.check()
        return connector.config
    finally:
        connector.close()
