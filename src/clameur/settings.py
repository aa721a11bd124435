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
