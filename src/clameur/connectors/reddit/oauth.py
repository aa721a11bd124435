"""Connecting a Reddit account through a web app: Reddit's OAuth 2 code flow.

- Authorization, `https://www.reddit.com/api/v1/authorize` with `response_type=code`, `state`,
  `redirect_uri`, `duration=permanent` (for a refresh token) and the scopes
  (https://github.com/reddit-archive/reddit/wiki/OAuth2#authorization). Reddit does not
  support PKCE; the `state` check protects the callback.
- Token, `POST https://www.reddit.com/api/v1/access_token` with `grant_type=authorization_code`,
  the code and the redirect URI, the app's id and secret in a Basic header
  (https://github.com/reddit-archive/reddit/wiki/OAuth2#retrieving-the-access-token). Reddit's
  access tokens last a day; `RedditConnector.sign_in` renews them with the refresh token, which
  does not change.

Script apps need no flow: the account's username and password are entered in the settings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.reddit.connector import (
    NETWORK,
    SCOPES,
    RedditConfig,
    RedditConnector,
    apply_token,
)

AUTHORIZE_URL = "https://www.reddit.com/api/v1/authorize"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep until they come back (never shown)."""

    url: str
    state: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url!r}, state=<hidden>)"


def authorization_request(
    config: RedditConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """Reddit's approval page for the app, with a fresh state."""
    state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": config.client_id,
            "response_type": "code",
            "state": state,
            "redirect_uri": redirect_uri,
            "duration": "permanent",
            "scope": " ".join(SCOPES),
        }
    )
    return AuthorizationRequest(
        url=f"{authorize_url}?{query}", state=state, redirect_uri=redirect_uri
    )


def exchange_code(
    config: RedditConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    transport: httpx.BaseTransport | None = None,
) -> RedditConfig:
    """`config` with the tokens Reddit gives for the approval `code`."""
    if not secrets.compare_digest(state, request.state):
        raise AuthError(
            "The answer from Reddit does not match the request Clameur made (state differs). "
            "Start connecting the account again.",
            NETWORK,
        )
    connector = RedditConnector(config, transport=transport)
    try:
        body = connector.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": request.redirect_uri,
            }
        )
    except (AuthError, PermanentError) as error:
        raise AuthError(
            f"Reddit refused the approval code ({error.message}). Check the app id and secret, "
            "then start connecting the account again.",
            NETWORK,
        ) from None
    finally:
        connector.close()
    if "error" in body:
        raise AuthError(
            f"Reddit refused the approval code ({body['error']}). Start connecting the account "
            "again.",
            NETWORK,
        )
    connected = apply_token(config, body)
    if connected.refresh_token is None:
        raise AuthError("Reddit gave no refresh token; connect the account again.", NETWORK)
    return connected
