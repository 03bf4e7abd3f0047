"""Changelogs from GitHub's REST API: the compare endpoint, or recent commits for a first release.

Endpoints and response shapes: https://docs.github.com/en/rest/commits/commits
(`GET /repos/{owner}/{repo}/compare/{base}...{head}` lists commits oldest first with
`total_commits`, paginated; `GET /repos/{owner}/{repo}/commits?sha=` lists newest first).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.domain.errors import BackendError, InvalidInput
from bot.ports.changelog import Changelog, Commit, subject_of

PAGE = 100  # GitHub's largest page
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def _commit(item: Any) -> Commit:
    """A commit from GitHub's commit object; the git author's name, else their login."""
    try:
        details = item["commit"]
        login = (item.get("author") or {}).get("login")
        name = (details.get("author") or {}).get("name") or login or "unknown"
        return Commit(
            sha=item["sha"],
            subject=subject_of(details.get("message") or ""),
            author=name,
            url=item.get("html_url"),
        )
    except (KeyError, TypeError, AttributeError):
        raise BackendError("GitHub answered with a commit in an unexpected shape") from None


class GitHubChangelog:
    """The changelog of `owner/name` from GitHub, newest first, at most `limit` commits."""

    def __init__(
        self,
        http: httpx.Client,
        repo: str,
        token: str | None,
        api_url: str = "https://api.github.com",
        limit: int = 250,
        timeout: float | None = None,
    ) -> None:
        if not _REPO.fullmatch(repo):
            raise InvalidInput(f"repo must look like owner/name, not {repo!r}")
        self._http = http
        self.repo = repo
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.limit = limit
        # Seconds for each request to GitHub; None keeps the client's own timeout.
        self._timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)

    def changelog(self, base: str | None, head: str) -> Changelog:
        """The commits in head that are not in base; the last `limit` up to head without base."""
        if base is None:
            return self._recent(head)
        path = f"/repos/{self.repo}/compare/{quote(base, safe='')}...{quote(head, safe='')}"
        first = self._get(path, {"per_page": PAGE, "page": 1}, base=base, head=head)
        total = first.get("total_commits")
        if not isinstance(total, int):
            raise BackendError("GitHub answered the comparison without total_commits")
        # Compare lists oldest first; the newest commits matter most, so read back from the end.
        later: list[Any] = []
        page = max(1, math.ceil(total / PAGE))
        while page > 1 and sum(len(p.get("commits") or []) for p in later) < self.limit:
            later.append(self._get(path, {"per_page": PAGE, "page": page}, base=base, head=head))
            page -= 1
        ordered = ([first] if page == 1 else []) + list(reversed(later))
        commits = [_commit(item) for p in ordered for item in (p.get("commits") or [])]
        newest = tuple(reversed(commits))[: self.limit]
        return Changelog(
            commits=newest,
            compare_url=first.get("html_url"),
            truncated=total > len(newest),
            base=base,
            head=head,
        )

    def _recent(self, head: str) -> Changelog:
        commits: list[Commit] = []
        page = 1
        while len(commits) <= self.limit:
            items = self._get(
                f"/repos/{self.repo}/commits",
                {"sha": head, "per_page": PAGE, "page": page},
                base=None,
                head=head,
            )
            if not isinstance(items, list):
                raise BackendError("GitHub answered the commit list in an unexpected shape")
            commits.extend(_commit(item) for item in items)
            if len(items) < PAGE:
                break
            page += 1
        return Changelog(
            commits=tuple(commits[: self.limit]),
            compare_url=None,
            truncated=len(commits) > self.limit,
            base=None,
            head=head,
        )

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "releasebot",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _send(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            return self._http.get(
                self.api_url + path, params=params, headers=self._headers(), timeout=self._timeout
            )
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise BackendError(f"GitHub is unreachable: {type(error).__name__}: {reason}") from None

    def _get(self, path: str, params: dict[str, Any], *, base: str | None, head: str) -> Any:
        response = self._send(path, params)
        if response.status_code == 404:
            raise self._not_found(base, head)
        if response.status_code >= 400:
            raise self._refusal(response)
        try:
            payload = response.json()
        except ValueError:
            raise BackendError(
                f"GitHub answered HTTP {response.status_code} with something that is not JSON"
            ) from None
        if base is not None and not isinstance(payload, dict):
            raise BackendError("GitHub answered the comparison in an unexpected shape")
        return payload

    def _refusal(self, response: httpx.Response) -> BackendError:
        """Rate limits, bad tokens and other refusals in words a release manager can act on."""
        code, headers = response.status_code, response.headers
        message = _message(response)
        if code in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            when = (
                datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M UTC")
                if reset.isdigit()
                else "later"
            )
            return BackendError(
                f"GitHub API rate limit exhausted for {self.repo}; it resets at {when}"
            )
        if code in (403, 429) and "retry-after" in headers:
            return BackendError(
                f"GitHub is rate limiting releasebot (secondary limit); "
                f"retry after {headers['retry-after']} s"
            )
        if code == 401:
            return BackendError(f"GitHub refused the token (HTTP 401): {message}")
        if code == 403:
            return BackendError(f"GitHub refused access to {self.repo} (HTTP 403): {message}")
        return BackendError(f"GitHub answered HTTP {code} for {self.repo}: {message}")

    def _not_found(self, base: str | None, head: str) -> BackendError:
        """Find out which of repository, base or head GitHub does not know, and say so."""
        if self._send(f"/repos/{self.repo}").status_code == 404:
            return BackendError(
                f"GitHub does not know repository {self.repo} (or the token cannot read it)"
            )
        for ref in (base, head):
            if ref is None:
                continue
            found = self._send(f"/repos/{self.repo}/commits/{quote(ref, safe='')}")
            if found.status_code in (404, 422):
                return BackendError(f"GitHub does not know ref '{ref}' in {self.repo}")
        return BackendError(
            f"GitHub cannot compare '{base}' with '{head}' in {self.repo} (no common history?)"
        )


def _message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or "no reason given"
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])
    return "no reason given"
