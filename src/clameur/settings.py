"""One settings tree, read from the environment (CLAMEUR_SECTION__KEY) and an optional .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    """Where posts live: SQLite by default, PostgreSQL in production."""

    url: str = ""
    echo: bool = False


class WebSettings(BaseModel):
    """The web server."""

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: SecretStr = SecretStr("")
    secure_cookies: bool = False
    default_locale: str = "fr"
    # The address people use to reach Clameur, for links in alert e-mails and webhooks.
    public_url: str = ""
    page_size: int = 50


class PipelineSettings(BaseModel):
    """The ingest pipeline and its runners."""

    batch_size: int = 500
    poll_seconds: float = 1.0
    embedded_runner: bool = True


class DemoSettings(BaseModel):
    """The demo replay stream."""

    enabled: bool = False
    posts_per_minute: float = 40.0
    seed: int = 2017


class ConnectorSettings(BaseModel):
    """The networks' connectors: the key that encrypts their tokens at rest."""

    # Any long random string; the encryption key is derived from it. Changing it makes the
    # stored connector settings unreadable unless the old value is kept in previous_keys.
    secret_key: SecretStr = SecretStr("")
    previous_keys: list[SecretStr] = Field(default_factory=list)
    request_timeout: float = 30.0


class RadarSettings(BaseModel):
    """The radar: how often series are updated and scored, and how long 5-minute buckets stay."""

    update_seconds: float = 15.0
    keep_5min_days: int = 35


class MailSettings(BaseModel):
    """The SMTP server that sends alert e-mails (nothing is sent while `host` is empty)."""

    host: str = ""
    port: int = 587
    username: str = ""
    password: SecretStr = SecretStr("")
    starttls: bool = True
    sender: str = "clameur@localhost"
    timeout: float = 20.0


class Settings(BaseSettings):
    """The whole configuration of Clameur."""

    model_config = SettingsConfigDict(
        env_prefix="CLAMEUR_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Path("data")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    radar: RadarSettings = Field(default_factory=RadarSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)

    @property
    def database_url(self) -> str:
        """The database URL, defaulting to an SQLite file in the data folder."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'clameur.db').as_posix()}"

    def secret_key(self) -> str:
        """The key that signs sessions; generated once and kept in the data folder if unset."""
        value = self.web.secret_key.get_secret_value()
        if value:
            return value
        import secrets

        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


def get_settings() -> Settings:
    """Read the settings from the environment."""
    return Settings()
