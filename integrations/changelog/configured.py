"""Each service's changelog source, as releasebot.toml and the environment describe it."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bot.domain.config import ReleasebotConfig
from bot.ports.changelog import ChangelogSource
from integrations.changelog.github import GitHubChangelog
from integrations.changelog.local_git import LocalGitChangelog

# Commits read per changelog; an announcement shows fewer and points at `/release notes`.
CHANGELOG_LIMIT = 200
# Each request to GitHub while an announcement or `/release notes` waits on it.
GITHUB_TIMEOUT_SECONDS = 5.0


class ConfiguredChangelogs:
    """`repo_path` (a local git clone) wins over `repo` (GitHub, token from `token_env`).

    The config is read at each call, so a reloaded or edited service is seen at once; the
    token is read from `environ` then too.
    """

    def __init__(
        self,
        config: ReleasebotConfig,
        *,
        environ: Mapping[str, str],
        http: httpx.Client,
        github_timeout: float | None = GITHUB_TIMEOUT_SECONDS,
    ) -> None:
        self._config = config
        self._environ = environ
        self._http = http
        self._github_timeout = github_timeout

    def source_for(self, service: str) -> ChangelogSource | None:
        """Where `service`'s changelog comes from, or None when it names no repository."""
        settings = self._config.service(service)
        web_url = f"https://github.com/{settings.repo}" if settings.repo else None
        path = self._config.repo_path(service)
        if path is not None:
            return LocalGitChangelog(path, web_url=web_url, limit=CHANGELOG_LIMIT)
        if settings.repo:
            return GitHubChangelog(
                self._http,
                settings.repo,
                self._environ.get(settings.token_env or "GITHUB_TOKEN"),
                api_url=settings.api_url or "https://api.github.com",
                limit=CHANGELOG_LIMIT,
                timeout=self._github_timeout,
            )
        return None
