"""The shared retry path: what is retried, how long it waits, and what the user reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.domain.errors import BackendError
from integrations.deploy.http import ProviderHttp, RetryPolicy


def provider(far_side: Any, retry: RetryPolicy) -> ProviderHttp:
    return ProviderHttp(
        far_side.client(), provider="Acme", base_url="https://acme.test", retry=retry
    )


def test_a_post_that_never_left_is_retried(far_side: Any, retry: RetryPolicy, sleeps: Any) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    far_side.on("POST", "/deploy", refused, httpx.Response(201))

    assert provider(far_side, retry).request("POST", "/deploy", expected=(201,)).status_code == 201
    assert sleeps.delays == [0.5]


def test_unreachable_after_all_attempts_names_the_provider(
    far_side: Any, retry: RetryPolicy
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    far_side.on("GET", "/x", refused)

    with pytest.raises(
        BackendError, match=r"^could not reach Acme at https://acme\.test: connection"
    ):
        provider(far_side, retry).request("GET", "/x")
    assert len(far_side.requests) == 3


def test_a_rate_limited_post_is_retried_after_the_asked_delay(
    far_side: Any, retry: RetryPolicy, sleeps: Any
) -> None:
    far_side.on(
        "POST", "/x", httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)
    )

    provider(far_side, retry).request("POST", "/x")

    assert sleeps.delays == [3.0]


def test_an_unreasonable_retry_after_fails_at_once(far_side: Any, retry: RetryPolicy) -> None:
    far_side.on(
        "GET",
        "/x",
        httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow down"}),
    )

    with pytest.raises(BackendError, match="asked to wait 3600s \\(slow down\\)"):
        provider(far_side, retry).request("GET", "/x")
    assert len(far_side.requests) == 1


def test_html_error_pages_are_reduced_to_their_words(far_side: Any, retry: RetryPolicy) -> None:
    page = "<html><head><title>Oops</title></head><body><h1>Proxy   error</h1></body></html>"
    far_side.on("GET", "/x", httpx.Response(400, text=page, headers={"Content-Type": "text/html"}))

    with pytest.raises(BackendError, match=r"^Acme answered 400: Oops Proxy error$"):
        provider(far_side, retry).request("GET", "/x")
