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

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.youtube.connector import (
    NETWORK,
    SCOPES,
    YoutubeConfig,
    YoutubeConnector,
    apply_token,
)

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"


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
    config: YoutubeConfig, redirect_uri: str, authorize_url: str = AUTHORIZE_URL
) -> AuthorizationRequest:
    """Google's consent page for the channel's account, with a fresh state and PKCE verifier."""
    if not config.client_id or config.client_secret is None:
        raise PermanentError(
            "Enter the Google OAuth client ID and secret first (APIs & Services > Credentials).",
            NETWORK,
        )
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    query = urlencode(
        {
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
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
    config: YoutubeConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    transport: httpx.BaseTransport | None = None,
) -> YoutubeConfig:
    """`config` with the tokens Google gives for the approval `code`."""
    if not secrets.compare_digest(state, request.state):
        raise AuthError(
            "The answer from Google does not match the request Clameur made (state differs). "
            "Start connecting the channel again.",
            NETWORK,
        )
    connector = YoutubeConnector(config, transport=transport)
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
            f"Google refused the approval code ({error.message}). Start connecting the "
            "channel again.",
            NETWORK,
        ) from None
    finally:
        connector.close()
    connected = apply_token(config, body)
    if connected.refresh_token is None:
        raise AuthError(
            "Google gave no refresh token: remove Clameur from the Google account's third-party "
            "access, then connect the channel again.",
            NETWORK,
        )
    return connected
