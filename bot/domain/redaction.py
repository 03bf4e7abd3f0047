"""Configured secrets never reach Slack or the database through what deploy services say.

A deploy script can echo a token it was given (`pass_env`), a provider can quote a header back
in an error: every configured secret value found in such text is replaced by `[redacted]`.
Values shorter than `MIN_SECRET_LENGTH` are left alone: replacing `1234` or `prod` would mangle
ordinary output, and a secret that short protects nothing anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from bot.domain.config import CommandSettings, ReleasebotConfig, needed_secrets

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
# The bot's own credentials, read from the environment by Settings.
BOT_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
# A `pass_env` variable with one of these words in its name holds a secret.
# `dialect+driver://` at the start of a database URL.
_URL_SCHEME = re.compile(r"[\w+]+://")
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|DSN"
)


class Redactor:
    """Replaces each known secret value in a text with `[redacted]`."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def optional(self, text: str | None) -> str | None:
        """`__call__` for text that may be missing."""
        return None if text is None else self(text)


def looks_secret(variable: str) -> bool:
    """Whether a variable's name says it holds a secret (API_TOKEN, DB_PASSWORD, ...)."""
    return bool(_SECRET_NAME.search(variable.upper()))


def database_password(url: str) -> str | None:
    """The password inside a database URL, if it has one, as the database driver is given it.

    Read the way the database layer reads it: the user part ends at the first `@` and the
    password is what follows its first `:`, percent-decoded; a `/`, `?` or `#` typed into a
    password unencoded stays part of it.
    """
    scheme = _URL_SCHEME.match(url)
    if scheme is None:
        return None
    user_part, at, _ = url[scheme.end() :].partition("@")
    user, colon, password = user_part.partition(":")
    if not at or not colon or "/" in user:
        return None
    return unquote(password)


def configured_secrets(
    config: ReleasebotConfig, environ: Mapping[str, str], *, database_url: str
) -> list[str]:
    """Every secret value the configuration refers to, as set in `environ`."""
    found = [environ.get(name, "") for name in BOT_VARIABLES]
    found += [environ.get(secret.variable, "") for secret in needed_secrets(config)]
    for service in config.services.values():
        settings = service.backend_settings()
        if isinstance(settings, CommandSettings):
            found += [environ.get(v, "") for v in settings.pass_through if looks_secret(v)]
    found.append(database_password(database_url) or "")
    return [value for value in found if value]


def redactor_for(
    config: ReleasebotConfig,
    environ: Mapping[str, str],
    *,
    database_url: str,
    also: Iterable[str | None] = (),
) -> Redactor:
    """The redactor of a running bot: its configured secrets plus `also` (its Slack tokens)."""
    return Redactor([*configured_secrets(config, environ, database_url=database_url), *also])
