"""Connecting a YouTube channel for replies: Google's OAuth 2.0 flow for web server apps, with
PKCE.

- Authorization, `https://accounts.google.com/o/oauth2/v2/auth` with the scope
  `https://www.googleapis.com/auth/youtube.force-ssl`, `access_type=offline` (for a refresh
  token), `prompt=consent`, `state` and a PKCE `code_challenge` (method S256)
  (https://developers.google.com/identity/protocols/oauth2/web-server,
  https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps);
- token, `POST https://oauth2.googleapis.com/token` with `grant_type=authorization_code`, the
  client id and secret and the `code_verifier`. Google's access tokens last an hour;
  `YoutubeConnector.refresh` renews them with the refresh token.

Reading comments needs only the API key; this flow is for replying. The web page keeps the
`AuthorizationRequest` (state and verifier) in the user's session between the redirect and the
callback, and checks `state` on the way back.
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
from clameur.connectors.youtube.connector import NETWORK, SCOPES, YoutubeConfig, YoutubeConnector

__all__ = ["AuthorizationRequest", "authorization_request", "code_challenge", "exchange_code"]

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"


def authorization_request(
    config: YoutubeConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """Google's consent page for the channel's account, with a fresh state and PKCE verifier."""
    if not config.client_id or config.client_secret is None:
        raise PermanentError(
            "Enter the Google OAuth client ID and secret first (APIs & Services > Credentials).",
            NETWORK,
        )
    return approval_request(
        authorize_url,
        redirect_uri,
        {
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
    )


def exchange_code(
    config: YoutubeConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    transport: httpx.BaseTransport | None = None,
) -> YoutubeConfig:
    """`config` with the tokens Google gives for the approval `code`."""
    check_state(request, state, NETWORK, "Google", "channel")
    connector = YoutubeConnector(config, transport=transport)
    try:
        body = connector.token_request(code_grant(request, code))
    except (AuthError, PermanentError) as error:
        raise AuthError(
            f"Google refused the approval code ({error.message}). Start connecting the "
            "channel again.",
            NETWORK,
        ) from None
    finally:
        connector.close()
    connected = apply_token(config, body, NETWORK)
    if connected.refresh_token is None:
        raise AuthError(
            "Google gave no refresh token: remove Clameur from the Google account's third-party "
            "access, then connect the channel again.",
            NETWORK,
        )
    return connected
