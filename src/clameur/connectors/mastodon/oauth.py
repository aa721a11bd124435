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

from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonNetworkError
from pydantic import SecretStr

from clameur.connectors.base import AuthError, PermanentError, RetryableError
from clameur.connectors.http import USER_AGENT, HttpClient
from clameur.connectors.mastodon.connector import NETWORK, SCOPES, MastodonConfig
from clameur.connectors.oauth import (
    AuthorizationRequest,
    approval_request,
    check_state,
    code_challenge,
    code_grant,
)

__all__ = [
    "AuthorizationRequest",
    "authorization_request",
    "code_challenge",
    "exchange_code",
    "register_app",
]

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


def authorization_request(config: MastodonConfig, redirect_uri: str) -> AuthorizationRequest:
    """The approval page on the user's server, with a fresh state and PKCE verifier."""
    if not config.client_id:
        raise PermanentError("Register Clameur on the server first (register_app).", NETWORK)
    return approval_request(
        f"{config.instance_url}/oauth/authorize",
        redirect_uri,
        {
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
        },
    )


def exchange_code(
    config: MastodonConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    client: HttpClient | None = None,
) -> MastodonConfig:
    """`config` with the access token the server gives for the approval `code`."""
    check_state(request, state, NETWORK, "the Mastodon server")
    if not config.client_id or config.client_secret is None:
        raise PermanentError("Register Clameur on the server first (register_app).", NETWORK)
    http = client or HttpClient(NETWORK, base_url=config.instance_url)
    try:
        response = http.post(
            "/oauth/token",
            data={
                **code_grant(request, code),
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
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
