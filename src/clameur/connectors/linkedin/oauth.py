"""Connecting a LinkedIn organisation: OAuth 2.0 three-legged flow with refresh tokens.

- The member approves Clameur at `GET https://www.linkedin.com/oauth/v2/authorization` with
  `response_type=code`, the app's `client_id`, the `redirect_uri`, a `state` and the scopes;
  the code comes back to the redirect address and is exchanged at
  `POST https://www.linkedin.com/oauth/v2/accessToken` (`grant_type=authorization_code`)
  (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow).
- Apps approved for the Community Management API receive a refresh token with the access
  token: access tokens live 60 days, refresh tokens a year from the first approval;
  `grant_type=refresh_token` mints a new access token, the refresh token keeps its end date
  (https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens).

The web page keeps the `AuthorizationRequest` in the user's session between the redirect and
the callback and checks `state` on the way back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from clameur.connectors.base import AuthError, PermanentError
from clameur.connectors.http import HttpClient
from clameur.connectors.oauth import AuthorizationRequest, approval_request, check_state, code_grant
from clameur.kit.time import utcnow

if TYPE_CHECKING:
    from clameur.connectors.linkedin.connector import LinkedInConfig

__all__ = ["AuthorizationRequest", "authorization_request", "exchange_code", "refresh_tokens"]

NETWORK = "linkedin"
SCOPES = (
    "r_organization_social",
    "w_organization_social",
    "r_organization_social_feed",
    "w_organization_social_feed",
    "rw_organization_admin",
)


def authorization_request(config: LinkedInConfig, redirect_uri: str) -> AuthorizationRequest:
    """LinkedIn's approval page for the app, with a fresh state."""
    if not config.client_id:
        raise PermanentError("Enter the LinkedIn app's client ID first.", NETWORK)
    return approval_request(
        f"{config.oauth_url}/authorization",
        redirect_uri,
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(config.scopes or SCOPES),
        },
        pkce=False,
    )


def exchange_code(
    config: LinkedInConfig,
    request: AuthorizationRequest,
    code: str,
    state: str,
    client: HttpClient | None = None,
) -> LinkedInConfig:
    """`config` with the tokens LinkedIn gives for the approval `code`."""
    check_state(request, state, NETWORK, "LinkedIn")
    return _token_request(config, code_grant(request, code), client)


def refresh_tokens(config: LinkedInConfig, client: HttpClient | None = None) -> LinkedInConfig:
    """`config` with a new access token minted from its refresh token."""
    if config.refresh_token is None:
        raise AuthError(
            "The LinkedIn access token has expired and there is no refresh token (LinkedIn "
            "gives them to Community Management API partners). Connect the account again.",
            NETWORK,
        )
    return _token_request(
        config,
        {"grant_type": "refresh_token", "refresh_token": config.refresh_token.get_secret_value()},
        client,
    )


def _token_request(
    config: LinkedInConfig, form: dict[str, str], client: HttpClient | None
) -> LinkedInConfig:
    if not config.client_id or config.client_secret is None:
        raise PermanentError(
            "Enter the LinkedIn app's client ID and client secret to connect the account.",
            NETWORK,
        )
    http = client or HttpClient(NETWORK, base_url=config.oauth_url, attempts=1)
    try:
        response = http.post(
            "/accessToken",
            data={
                **form,
                "client_id": config.client_id,
                "client_secret": config.client_secret.get_secret_value(),
            },
        )
    except (PermanentError, AuthError) as error:
        # 400/401 invalid_grant: the code or refresh token was used, expired or revoked.
        raise AuthError(
            f"LinkedIn refused to issue a token ({error.message}). Connect the account again.",
            NETWORK,
        ) from None
    finally:
        if client is None:
            http.close()
    try:
        answer: dict[str, Any] = response.json()
        token = answer["access_token"]
    except (ValueError, KeyError, TypeError):
        raise PermanentError("LinkedIn answered without an access token.", NETWORK) from None
    if not isinstance(token, str) or not token:
        raise PermanentError("LinkedIn sent an empty access token.", NETWORK)
    update: dict[str, Any] = {"access_token": SecretStr(token)}
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, int | float):
        update["token_expires_at"] = (utcnow() + timedelta(seconds=expires_in)).isoformat()
    refresh = answer.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        update["refresh_token"] = SecretStr(refresh)
        lifetime = answer.get("refresh_token_expires_in")
        if isinstance(lifetime, int | float):
            update["refresh_expires_at"] = (utcnow() + timedelta(seconds=lifetime)).isoformat()
    return config.model_copy(update=update)
