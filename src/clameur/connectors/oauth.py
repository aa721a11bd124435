"""What the networks' OAuth 2.0 authorization-code flows share: the request kept between the
redirect and the callback, PKCE, the `state` check, the code grant and the token answer.

- Authorization (RFC 6749, section 4.1.1): the user is sent to the network's approval page with
  the app's parameters and a fresh, unguessable `state`; with PKCE (RFC 7636, section 4.2) also
  the S256 `code_challenge` of a fresh verifier.
- Callback (RFC 6749, section 4.1.2; section 10.12 on CSRF): the `state` that comes back must be
  the one sent, compared in constant time.
- Token (RFC 6749, sections 4.1.3 and 5.1): `grant_type=authorization_code` with the code, the
  same `redirect_uri` and the PKCE verifier; the answer carries `access_token`, and may carry
  `refresh_token` and `expires_in` (seconds).

Each network's module (`clameur.connectors.<network>.oauth`) says which parameters its approval
page takes and how its token endpoint authenticates the app, and re-exports
`AuthorizationRequest`: the web page rebuilds it from the user's session by module.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import SecretStr

from clameur.connectors.base import AuthError, ConnectorConfig, payload_error
from clameur.kit.time import utcnow

ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep until they come back (never shown)."""

    url: str
    state: str
    redirect_uri: str
    # The PKCE verifier; empty where the network has no PKCE (Reddit, LinkedIn).
    code_verifier: str = ""

    def __repr__(self) -> str:
        verifier = ", code_verifier=<hidden>" if self.code_verifier else ""
        return f"AuthorizationRequest(url={self.url!r}, state=<hidden>{verifier})"


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge of `verifier` (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def approval_request(
    authorize_url: str, redirect_uri: str, query: Mapping[str, str], pkce: bool = True
) -> AuthorizationRequest:
    """The approval page at `authorize_url` with the network's `query`, a fresh `state` and,
    with `pkce`, the challenge of a fresh verifier."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64) if pkce else ""
    params = {**query, "state": state}
    if pkce:
        params["code_challenge"] = code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    return AuthorizationRequest(
        url=f"{authorize_url}?{urlencode(params)}",
        state=state,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )


def check_state(
    request: AuthorizationRequest, state: str, network: str, who: str, what: str = "account"
) -> None:
    """Refuse a callback whose `state` is not the one sent to `who` (another request's, or a
    forged one)."""
    if not secrets.compare_digest(state, request.state):
        raise AuthError(
            f"The answer from {who} does not match the request Clameur made (state differs). "
            f"Start connecting the {what} again.",
            network,
        )


def code_grant(request: AuthorizationRequest, code: str) -> dict[str, str]:
    """The token request's form for an approval `code` (with the PKCE verifier, if any)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": request.redirect_uri}
    if request.code_verifier:
        form["code_verifier"] = request.code_verifier
    return form


def apply_token(config: ConfigT, body: Mapping[str, Any], network: str) -> ConfigT:
    """`config` with the tokens of a token answer: the access token, the refresh token when
    one is given (X rotates it; Google and Reddit give it once), and when the access token
    expires (None when the answer does not say)."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise payload_error(network, "token answer", "it has no 'access_token'")
    update: dict[str, Any] = {"access_token": SecretStr(access)}
    refresh = body.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        update["refresh_token"] = SecretStr(refresh)
    expires_in = body.get("expires_in")
    update["token_expires_at"] = (
        utcnow() + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else None
    )
    return config.model_copy(update=update)
