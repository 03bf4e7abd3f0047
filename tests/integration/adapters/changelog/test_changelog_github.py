"""Changelogs from GitHub's compare API, against a fake GitHub (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError, InvalidInput
from integrations.changelog import GitHubChangelog

COMPARE = json.loads((Path(__file__).parent / "fixtures" / "github_compare.json").read_text())
API = "https://api.github.com"
Handler = Callable[[httpx.Request], httpx.Response]


def github(
    handler: Handler, *, token: str | None = "ghp_test", limit: int = 250
) -> GitHubChangelog:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return GitHubChangelog(http, "acme/checkout", token, limit=limit)


def fake_commit(n: int) -> dict[str, Any]:
    sha = f"{n:040x}"
    return {
        "sha": sha,
        "html_url": f"https://github.com/acme/checkout/commit/{sha}",
        "commit": {"author": {"name": f"Dev {n}"}, "message": f"Change {n}"},
        "author": {"login": f"dev{n}"},
    }


def test_compare_lists_subjects_authors_and_links_newest_first() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPARE)

    log = github(handler).changelog("v1.4.0", "v1.5.0")
    assert [(c.subject, c.author) for c in log.commits] == [
        ("Retry card payments once on gateway timeout (#412)", "Grace Hopper"),
        ("Fix all the bugs", "Monalisa Octocat"),
    ]
    assert log.commits[1].url == (
        "https://github.com/acme/checkout/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e"
    )
    assert log.compare_url == "https://github.com/acme/checkout/compare/v1.4.0...v1.5.0"
    assert (log.base, log.head, log.truncated) == ("v1.4.0", "v1.5.0", False)
    (request,) = seen
    assert request.url.path == "/repos/acme/checkout/compare/v1.4.0...v1.5.0"
    assert request.headers["authorization"] == "Bearer ghp_test"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_without_a_token_no_authorization_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPARE)

    github(handler, token=None).changelog("v1.4.0", "v1.5.0")
    assert "authorization" not in seen[0].headers


def test_refs_with_slashes_stay_inside_the_path_segment() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPARE)

    github(handler).changelog("release/1.4", "../../../user")
    # One path segment: slashes are encoded, so a ref cannot climb to another endpoint.
    assert seen[0].url.raw_path == (
        b"/repos/acme/checkout/compare/release%2F1.4.....%2F..%2F..%2Fuser?per_page=100&page=1"
    )


def test_a_long_comparison_keeps_the_newest_commits() -> None:
    commits = [fake_commit(n) for n in range(230)]  # oldest first, as GitHub lists them
    pages: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages.append(page)
        body = COMPARE | {"total_commits": 230, "commits": commits[(page - 1) * 100 : page * 100]}
        return httpx.Response(200, json=body)

    log = github(handler, limit=120).changelog("v1.0.0", "v2.0.0")
    assert pages == [1, 3, 2]
    assert len(log.commits) == 120
    assert log.commits[0].subject == "Change 229"
    assert log.commits[-1].subject == "Change 110"
    assert log.truncated


def test_a_comparison_within_the_limit_reads_every_page() -> None:
    commits = [fake_commit(n) for n in range(150)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        body = COMPARE | {"total_commits": 150, "commits": commits[(page - 1) * 100 : page * 100]}
        return httpx.Response(200, json=body)

    log = github(handler).changelog("v1.0.0", "v2.0.0")
    assert [c.subject for c in log.commits] == [f"Change {n}" for n in reversed(range(150))]
    assert not log.truncated


def test_first_release_lists_recent_commits_up_to_head() -> None:
    newest_first = [fake_commit(n) for n in reversed(range(130))]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        return httpx.Response(200, json=newest_first[(page - 1) * 100 : page * 100])

    log = github(handler, limit=120).changelog(None, "v1.0.0")
    assert seen[0].url.path == "/repos/acme/checkout/commits"
    assert seen[0].url.params["sha"] == "v1.0.0"
    assert len(log.commits) == 120
    assert log.commits[0].subject == "Change 129"
    assert log.truncated
    assert log.compare_url is None


def routes(table: dict[str, httpx.Response]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return table.get(request.url.path, httpx.Response(500, json={"message": "unexpected"}))

    return handler


NOT_FOUND = httpx.Response(404, json={"message": "Not Found", "status": "404"})


def test_an_unknown_ref_is_named() -> None:
    handler = routes(
        {
            "/repos/acme/checkout/compare/v1.4.0...v9.9.9": NOT_FOUND,
            "/repos/acme/checkout": httpx.Response(200, json={"full_name": "acme/checkout"}),
            "/repos/acme/checkout/commits/v1.4.0": httpx.Response(200, json=COMPARE["commits"][0]),
            "/repos/acme/checkout/commits/v9.9.9": httpx.Response(
                422, json={"message": "No commit found for SHA: v9.9.9"}
            ),
        }
    )
    with pytest.raises(BackendError) as caught:
        github(handler).changelog("v1.4.0", "v9.9.9")
    assert caught.value.message == "GitHub does not know ref 'v9.9.9' in acme/checkout"


def test_an_unknown_repository_is_named() -> None:
    handler = routes(
        {"/repos/acme/checkout/compare/a...b": NOT_FOUND, "/repos/acme/checkout": NOT_FOUND}
    )
    with pytest.raises(BackendError) as caught:
        github(handler).changelog("a", "b")
    assert caught.value.message == (
        "GitHub does not know repository acme/checkout (or the token cannot read it)"
    )


def test_the_primary_rate_limit_says_when_it_resets() -> None:
    exhausted = httpx.Response(
        403,
        json={"message": "API rate limit exceeded for 203.0.113.7."},
        headers={
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "1795964400",
        },
    )
    with pytest.raises(BackendError) as caught:
        github(lambda request: exhausted).changelog("v1.4.0", "v1.5.0")
    assert caught.value.message == (
        "GitHub API rate limit exhausted for acme/checkout; it resets at 15:00 UTC"
    )


def test_the_secondary_rate_limit_says_when_to_retry() -> None:
    slow_down = httpx.Response(
        403,
        json={"message": "You have exceeded a secondary rate limit."},
        headers={"retry-after": "60", "x-ratelimit-remaining": "4999"},
    )
    with pytest.raises(BackendError, match="secondary limit\\); retry after 60 s"):
        github(lambda request: slow_down).changelog("v1.4.0", "v1.5.0")


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(401, json={"message": "Bad credentials"}),
            "GitHub refused the token (HTTP 401): Bad credentials",
        ),
        (
            httpx.Response(403, json={"message": "Resource not accessible by integration"}),
            "GitHub refused access to acme/checkout (HTTP 403): "
            "Resource not accessible by integration",
        ),
        (
            httpx.Response(502, text="<html>Bad gateway</html>"),
            "GitHub answered HTTP 502 for acme/checkout: <html>Bad gateway</html>",
        ),
        (
            httpx.Response(200, text="not json"),
            "GitHub answered HTTP 200 with something that is not JSON",
        ),
        (
            httpx.Response(200, json={"commits": []}),
            "GitHub answered the comparison without total_commits",
        ),
    ],
)
def test_refusals_and_garbage_are_backend_errors(response: httpx.Response, message: str) -> None:
    with pytest.raises(BackendError) as caught:
        github(lambda request: response).changelog("v1.4.0", "v1.5.0")
    assert caught.value.message == message


def test_an_unreachable_github_is_a_backend_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(BackendError, match=r"^GitHub is unreachable: ConnectError: \[Errno -3\]"):
        github(handler).changelog("v1.4.0", "v1.5.0")


def test_a_malformed_repo_is_refused() -> None:
    with pytest.raises(InvalidInput, match="repo must look like owner/name"):
        GitHubChangelog(httpx.Client(), "acme/checkout/../../orgs", None)
