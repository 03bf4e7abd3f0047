"""Runtime settings from the environment (SPEC §8): one typed object, built where it is needed."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.store.leases import slot_owner

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///./releasebot.db"


class Settings(BaseSettings):
    """Every environment variable operators rely on; tests build their own instance."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    config_path: Path = Field(default=Path("releasebot.toml"), alias="RELEASEBOT_CONFIG")
    port: int = Field(default=3000, alias="PORT", ge=1, le=65535)
    host: str = Field(default="0.0.0.0", alias="HOST")
    state_dir: Path = Field(default=Path("var"), alias="RELEASEBOT_STATE_DIR")
    # Where deploy services reach releasebot (webhook callbacks); default: this machine.
    public_url: str | None = Field(default=None, alias="RELEASEBOT_PUBLIC_URL")

    @property
    def lease_owner(self) -> str:
        """This process's name on the work it claims; its own restart takes that work back."""
        return slot_owner(self.port)

    @property
    def callback_base_url(self) -> str:
        """The base URL deploy services call back to."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Heroku-style `postgres://` URLs and bare `postgresql://` use psycopg 3; a relative
        SQLite file is pinned to the directory the bot was started in."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return _absolute_sqlite(value)

    @field_validator("state_dir")
    @classmethod
    def _absolute_state_dir(cls, value: Path) -> Path:
        """Resolved once, here: the command backend's runner works inside a sub-directory, so
        a relative path would point somewhere else for it (issue 9.1)."""
        return value.expanduser().absolute()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        """slack_sdk joins method names onto the base URL, which must end with '/'."""
        return value if value.endswith("/") else value + "/"

    def require_slack(self, *, socket: bool = False) -> None:
        """Refuse to start a Slack mode without the tokens it needs, naming them."""
        needed = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
        }
        if socket:
            needed = {
                "SLACK_BOT_TOKEN": self.slack_bot_token,
                "SLACK_APP_TOKEN": self.slack_app_token,
            }
        missing = [name for name, value in needed.items() if value is None]
        if missing:
            raise SystemExit(f"releasebot: set {', '.join(missing)} (see README, 'Configuration')")


def _absolute_sqlite(url: str) -> str:
    """`sqlite:///./releasebot.db` as an absolute path, so every part of the bot (and anything
    it starts) opens the same file whatever its working directory."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # not a URL SQLAlchemy reads: make_engine says so with the detail
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database:
        return url
    if database == ":memory:" or database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = str(Path(database).expanduser().absolute())
    return parsed.set(database=absolute).render_as_string(hide_password=False)
