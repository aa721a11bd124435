"""Connecting a Mastodon account: register Clameur as an app on the user's server, send the
user there to approve, exchange the code for a token.

- App registration, `POST /api/v1/apps` through `Mastodon.create_app`
  (https://docs.joinmastodon.org/methods/apps/#create): once per server; keep the client id and
  secret (in the account's encrypted settings) and reuse them for the next account there.
- Authorization, `GET /oauth/authorize` with PKCE (`code_challenge`, method S256), which
  Mastodon supports since 4.3 (https://docs.joinmastodon.org/methods/oauth/#authorize,
  https://docs.joinmastodon.org/spec/oauth/); older servers ignore the challenge and the flow
  still works as a plain authorization-code flow.
- Token, `POST /oauth/token` with `grant_type=authorization_code` and the `code_verifier`
  (https://docs.joinmastodon.org/methods/oauth/#token). Mastodon.py's `log_in` cannot send a
  code verifier, so this request is made with httpx. Mastodon tokens do not expire.

The web page keeps the `AuthorizationRequest` (state and verifier) in the user's session
between the redirect and the callback, and checks `state` on the way back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonNetworkError
from pydantic import SecretStr

from clameur.connectors.base import AuthError, PermanentError, RetryableError
from clameur.connectors.http import USER_AGENT, HttpClient
from clameur.connectors.mastodon.connector import NETWORK, SCOPES, MastodonConfig

APP_NAME = "Clameur"


def register_app(
    config: MastodonConfig, redirect_uri: str, website: str | None = None, timeout: float = 30.0
) -> MastodonConfig:
    """`config` with a client id and secret for Clameur on its server (registered now unless it
    already has them)."""
    if config.client_id and config.client_secret:
        return config
    try:
        client_id, client_secret = Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES,
            redirect_uris=redirect_uri,
            website=website,
            api_base_url=config.instance_url,
            request_timeout=timeout,
            user_agent=USER_AGENT,
        )
    except MastodonNetworkError as error:
        raise RetryableError(
            f"{config.instance_url} could not be reached to register Clameur ({error}).", NETWORK
        ) from None
    except (KeyError, TypeError, MastodonError):
        raise PermanentError(
            f"{config.instance_url} did not register Clameur as an app. Check the address is a "
            "Mastodon server that allows new apps, or create an application under Preferences "
            "> Development there and paste its access token instead.",
            NETWORK,
        ) from None
    return config.model_copy(
        update={"client_id": client_id, "client_secret": SecretStr(client_secret)}
    )


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


def authorization_request(config: MastodonConfig, redirect_uri: str) -> AuthorizationRequest:
    """The approval page on the user's server, with a fresh state and PKCE verifier."""
    if not config.client_id:
        raise PermanentError("Register Clameur on the server first (register_app).", NETWORK)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    query = urlencode(
        {
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return AuthorizationRequest(
        url=f"{config.instance_url}/oauth/authorize?{query}",
        state=state,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
    )


def exchange_code(
    config: MastodonConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    client: HttpClient | None = None,
) -> MastodonConfig:
    """`config` with the access token the server gives for the approval `code`."""
    if not secrets.compare_digest(state, request.state):
        raise AuthError(
            "The answer from the Mastodon server does not match the request Clameur made "
            "(state differs). Start connecting the account again.",
            NETWORK,
        )
    if not config.client_id or config.client_secret is None:
        raise PermanentError("Register Clameur on the server first (register_app).", NETWORK)
    http = client or HttpClient(NETWORK, base_url=config.instance_url)
    try:
        response = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": request.redirect_uri,
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
                "code_verifier": request.code_verifier,
                "scope": " ".join(SCOPES),
            },
        )
    except PermanentError as error:
        # 400 invalid_grant: the code was used already, expired, or the verifier differs.
        raise AuthError(
            f"The Mastodon server refused the approval code ({error.message}). Start "
            "connecting the account again.",
            NETWORK,
        ) from None
    finally:
        if client is None:
            http.close()
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise PermanentError(
            "The Mastodon server answered the token request without an access token.", NETWORK
        ) from None
    if not isinstance(token, str) or not token:
        raise PermanentError("The Mastodon server sent an empty access token.", NETWORK)
    return config.model_copy(update={"access_token": SecretStr(token)})
