"""Each service's changelog source as the config and the environment describe it.

The composition root builds one `ConfiguredChangelogs` and hands it to announcements and
`/release notes`; these pin what it picks and what it sends.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from bot.domain.config import ReleasebotConfig, parse_config
from integrations.changelog import ConfiguredChangelogs, LocalGitChangelog

COMPARE = json.loads((Path(__file__).parent / "fixtures" / "github_compare.json").read_text())
CONFIG = """
timezone = "UTC"
[channels]
releases = "C0RELEASES"
[environments.staging]
approvals = { required = 0 }
[services.checkout]
backend = "github_actions"
repo = "acme/checkout"
workflow = "deploy.yml"
token_env = "CHECKOUT_GITHUB_TOKEN"
api_url = "https://github.acme.test/api/v3"
[services.cart]
backend = "command"
command = ["./deploy.sh"]
repo = "acme/cart"
repo_path = "./repos/cart.git"
[services.search]
backend = "command"
command = ["./deploy.sh"]
"""


def _config(tmp_path: Path) -> ReleasebotConfig:
    return parse_config(CONFIG, path=tmp_path / "releasebot.toml")


def test_a_github_changelog_uses_the_services_token_api_and_a_five_second_timeout(
    tmp_path: Path,
) -> None:
    seen: list[httpx.Request] = []

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPARE)

    environ = {"CHECKOUT_GITHUB_TOKEN": "ghp_first"}
    with httpx.Client(transport=httpx.MockTransport(github), timeout=30.0) as http:
        changelogs = ConfiguredChangelogs(_config(tmp_path), environ=environ, http=http)
        environ["CHECKOUT_GITHUB_TOKEN"] = "ghp_rotated"  # read when the changelog is asked for
        source = changelogs.source_for("checkout")
        assert source is not None
        log = source.changelog("v1.4.0", "v1.5.0")
    assert [c.subject for c in log.commits][-1] == "Fix all the bugs"
    (request,) = seen
    assert str(request.url).startswith("https://github.acme.test/api/v3/repos/acme/checkout/")
    assert request.headers["authorization"] == "Bearer ghp_rotated"
    assert request.extensions["timeout"] == dict.fromkeys(("connect", "read", "write", "pool"), 5.0)


def test_without_a_token_github_is_asked_anonymously(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPARE)

    with httpx.Client(transport=httpx.MockTransport(github)) as http:
        source = ConfiguredChangelogs(_config(tmp_path), environ={}, http=http).source_for(
            "checkout"
        )
        assert source is not None
        source.changelog("v1.4.0", "v1.5.0")
    assert "authorization" not in seen[0].headers


def test_a_local_clone_wins_over_github_and_a_service_without_a_repository_has_none(
    tmp_path: Path,
) -> None:
    with httpx.Client() as http:
        changelogs = ConfiguredChangelogs(_config(tmp_path), environ={}, http=http)
        cart = changelogs.source_for("cart")
        assert isinstance(cart, LocalGitChangelog)
        assert cart.repo_path == tmp_path / "repos" / "cart.git"
        assert cart.web_url == "https://github.com/acme/cart"  # commit links still point there
        assert changelogs.source_for("search") is None
