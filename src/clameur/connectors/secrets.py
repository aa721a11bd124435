"""Connector settings encrypted at rest (`NetworkAccount.config_encrypted`).

The settings (tokens included) are serialised to JSON and sealed with Fernet (AES-128-CBC and
HMAC-SHA256, https://cryptography.io/en/latest/fernet/). The Fernet key is derived with HKDF
from `CLAMEUR_CONNECTORS__SECRET_KEY`; earlier values listed in
`CLAMEUR_CONNECTORS__PREVIOUS_KEYS` still decrypt, so the key can be rotated (`reseal`).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, TypeVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from clameur.connectors.base import ConnectorConfig
from clameur.kit.errors import ClameurError

if TYPE_CHECKING:
    from clameur.settings import Settings

ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)

_SALT = b"clameur.connectors"
_INFO = b"connector-config v1"
KEY_HINT = (
    "Set CLAMEUR_CONNECTORS__SECRET_KEY to a long random value (for example the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), keep it safe, and restart "
    "Clameur."
)


class SecretKeyMissing(ClameurError):
    """No key to encrypt connector settings with."""

    status_code = 503


class SecretKeyWrong(ClameurError):
    """Stored settings cannot be decrypted with the configured keys."""

    status_code = 503


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypts and decrypts connector settings with a key derived from a settings secret."""

    def __init__(self, secret: str, previous: list[str] | None = None) -> None:
        if not secret or not secret.strip():
            raise SecretKeyMissing(f"No key to encrypt the networks' tokens with. {KEY_HINT}")
        if len(secret) < 16:
            raise SecretKeyMissing(
                "CLAMEUR_CONNECTORS__SECRET_KEY is too short to protect the networks' tokens "
                f"(at least 16 characters). {KEY_HINT}"
            )
        keys = [secret, *[key for key in previous or [] if key]]
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for `settings.connectors`' keys."""
        section = settings.connectors
        return cls(
            section.secret_key.get_secret_value(),
            [key.get_secret_value() for key in section.previous_keys],
        )

    def encrypt(self, config: ConnectorConfig) -> str:
        """`config`, secrets included, as an encrypted string for the database."""
        payload = json.dumps(config.secret_dump(), separators=(",", ":"), sort_keys=True)
        return self._fernet.encrypt(payload.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, model: type[ConfigT]) -> ConfigT:
        """The settings sealed in `token`, as `model`."""
        try:
            payload = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise SecretKeyWrong(
                "The stored settings of this account cannot be decrypted: "
                "CLAMEUR_CONNECTORS__SECRET_KEY is not the key they were saved with. Put the "
                "previous key back (or list it in CLAMEUR_CONNECTORS__PREVIOUS_KEYS), or "
                "connect the account again."
            ) from None
        try:
            return model.model_validate(json.loads(payload))
        except (ValueError, ValidationError) as error:
            # The message names fields, never values: pydantic's input echo is left out.
            fields = (
                ", ".join(".".join(str(p) for p in item["loc"]) for item in error.errors())
                if isinstance(error, ValidationError)
                else "the whole document"
            )
            raise SecretKeyWrong(
                f"The stored settings of this account no longer fit {model.__name__} "
                f"({fields}); connect the account again."
            ) from None

    def reseal(self, token: str) -> str:
        """`token` encrypted again with the current key (after a key rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretKeyWrong(
                "These stored settings cannot be decrypted with any configured key."
            ) from None
