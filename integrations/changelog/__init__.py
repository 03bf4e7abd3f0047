"""Changelogs for announcements: commits since the previous release, from git or GitHub."""

from integrations.changelog.github import GitHubChangelog
from integrations.changelog.local_git import LocalGitChangelog
from integrations.changelog.models import Changelog, ChangelogSource, Commit

__all__ = ["Changelog", "ChangelogSource", "Commit", "GitHubChangelog", "LocalGitChangelog"]
