"""Changelogs for announcements: commits since the previous release, from git or GitHub."""

from bot.ports.changelog import Changelog, ChangelogSource, Commit
from integrations.changelog.configured import ConfiguredChangelogs
from integrations.changelog.github import GitHubChangelog
from integrations.changelog.local_git import LocalGitChangelog

__all__ = [
    "Changelog",
    "ChangelogSource",
    "Commit",
    "ConfiguredChangelogs",
    "GitHubChangelog",
    "LocalGitChangelog",
]
