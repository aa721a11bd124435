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

import httpx

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.oauth import (
    AuthorizationRequest,
    apply_token,
    approval_request,
    check_state,
    code_grant,
)
from clameur.connectors.reddit.connector import NETWORK, SCOPES, RedditConfig, RedditConnector

__all__ = ["AuthorizationRequest", "authorization_request", "exchange_code"]

AUTHORIZE_URL = "https://www.reddit.com/api/v1/authorize"


def authorization_request(
    config: RedditConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """Reddit's approval page for the app, with a fresh state."""
    return approval_request(
        authorize_url,
        redirect_uri,
        {
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "duration": "permanent",
            "scope": " ".join(SCOPES),
        },
        pkce=False,
    )


def exchange_code(
    config: RedditConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    transport: httpx.BaseTransport | None = None,
) -> RedditConfig:
    """`config` with the tokens Reddit gives for the approval `code`."""
    check_state(request, state, NETWORK, "Reddit")
    connector = RedditConnector(config, transport=transport)
    try:
        body = connector.token_request(code_grant(request, code))
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
    connected = apply_token(config, body, NETWORK)
    if connected.refresh_token is None:
        raise AuthError("Reddit gave no refresh token; connect the account again.", NETWORK)
    return connected
