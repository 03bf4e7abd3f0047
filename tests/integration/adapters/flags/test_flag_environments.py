"""Each release changes its own environment's flag, as `flag.environment`'s help says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.domain.config import ConfigError, ReleasebotConfig, load_config
from bot.domain.errors import BackendError, InvalidInput
from integrations.deploy.registry import ConfiguredBackends
from tests.integration.adapters.flags.fakes import FakeLaunchDarkly, FakeUnleash, routed

CONFIG = """
timezone = "UTC"

[channels]
releases = "C0RELEASES"

[environments.staging]
[environments.production]

[services.web]
command = ["./deploy.sh"]
strategy = "dark-launch"
flag = {{ provider = "{provider}", key = "new-checkout", project = "shop"{extra} }}

[strategies.dark-launch]
kind = "feature_flag"
ramp = [25, 100]
"""
UNLEASH_URL = ', api_url = "https://unleash.example.com"'


def configured(tmp_path: Path, provider: str, extra: str = "") -> ReleasebotConfig:
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG.format(provider=provider, extra=extra))
    return load_config(path)


@pytest.fixture
def launchdarkly() -> FakeLaunchDarkly:
    return FakeLaunchDarkly(
        token="ld-token",
        project="shop",
        flag="new-checkout",
        environments=("staging", "production", "test"),
    )


@pytest.fixture
def unleash() -> FakeUnleash:
    return FakeUnleash(
        token="unleash-token",
        project="shop",
        feature="new-checkout",
        environments=("staging", "production"),
    )


@pytest.fixture
def http(launchdarkly: FakeLaunchDarkly, unleash: FakeUnleash) -> Iterator[httpx.Client]:
    def nowhere(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected call to {request.url}")

    transport = routed(
        {"app.launchdarkly.com": launchdarkly.handler, "unleash.example.com": unleash.handler},
        nowhere,
    )
    with httpx.Client(transport=transport) as client:
        yield client


def backends(config: ReleasebotConfig, http: httpx.Client, tmp_path: Path) -> ConfiguredBackends:
    return ConfiguredBackends(
        config=config,
        http=http,
        state_dir=tmp_path / "state",
        public_url="http://127.0.0.1:3000",
        callback_lookup=lambda token: None,
        environ={"LAUNCHDARKLY_API_TOKEN": "ld-token", "UNLEASH_API_TOKEN": "unleash-token"},
    )


def ramp_and_undo(registry: ConfiguredBackends, environment: str) -> None:
    """What the engine does for a feature_flag rollout, then its rollback."""
    for percentage in (25, 100):
        client, key = registry.flags("web", environment)
        client.set_rollout(key, percentage)
    client, key = registry.flags("web", environment)
    client.turn_off(key)


def test_launchdarkly_without_an_environment_key_changes_the_releases_environment(
    tmp_path: Path, http: httpx.Client, launchdarkly: FakeLaunchDarkly
) -> None:
    registry = backends(configured(tmp_path, "launchdarkly"), http, tmp_path)

    for percentage in (25, 100):
        client, key = registry.flags("web", "staging")
        client.set_rollout(key, percentage)
        assert launchdarkly.environments["staging"].percent_on == percentage
        assert launchdarkly.environments["production"].percent_on == 0

    client.turn_off(key)

    assert launchdarkly.environments["staging"].on is False
    assert launchdarkly.environments["production"].on is False
    # Turn on + ramp (a GET for the variation ids, then a PATCH) twice, then turn off.
    assert launchdarkly.calls == [
        ("GET", "staging"),
        ("PATCH", "staging"),
        ("GET", "staging"),
        ("PATCH", "staging"),
        ("PATCH", "staging"),
    ]


def test_launchdarkly_environments_can_be_mapped(
    tmp_path: Path, http: httpx.Client, launchdarkly: FakeLaunchDarkly
) -> None:
    config = configured(tmp_path, "launchdarkly", ', environment = { staging = "test" }')
    registry = backends(config, http, tmp_path)

    ramp_and_undo(registry, "staging")
    client, key = registry.flags("web", "production")
    client.set_rollout(key, 25)

    assert {env for _, env in launchdarkly.calls[:5]} == {"test"}
    assert {env for _, env in launchdarkly.calls[5:]} == {"production"}
    assert launchdarkly.environments["staging"].percent_on == 0
    assert launchdarkly.environments["production"].percent_on == 25


def test_unleash_without_an_environment_key_changes_the_releases_environment(
    tmp_path: Path, http: httpx.Client, unleash: FakeUnleash
) -> None:
    registry = backends(configured(tmp_path, "unleash", UNLEASH_URL), http, tmp_path)

    for percentage in (25, 100):
        client, key = registry.flags("web", "staging")
        client.set_rollout(key, percentage)
        assert unleash.environments["staging"].percent_on == percentage
        assert unleash.environments["production"].percent_on == 0

    client.turn_off(key)

    assert unleash.environments["staging"].enabled is False
    assert unleash.environments["production"].strategies == []
    assert {env for _, env, _ in unleash.calls} == {"staging"}
    assert [(method, what) for method, _, what in unleash.calls] == [
        ("GET", "strategies"),
        ("POST", "strategies"),
        ("POST", "on"),
        ("GET", "strategies"),
        ("PUT", f"strategies/{unleash.environments['staging'].strategies[0]['id']}"),
        ("POST", "on"),
        ("POST", "off"),
    ]


def test_an_environment_the_provider_lacks_fails_the_flag_change_with_its_words(
    tmp_path: Path, http: httpx.Client, launchdarkly: FakeLaunchDarkly, unleash: FakeUnleash
) -> None:
    ld = backends(configured(tmp_path, "launchdarkly"), http, tmp_path)
    client, key = ld.flags("web", "qa")
    with pytest.raises(
        BackendError, match="LaunchDarkly answered 400: Unknown environment key: qa"
    ):
        client.set_rollout(key, 25)

    un = backends(configured(tmp_path, "unleash", UNLEASH_URL), http, tmp_path)
    client, key = un.flags("web", "qa")
    with pytest.raises(BackendError, match="not added the current environment to the project"):
        client.set_rollout(key, 25)
    assert all(state.percent_on == 0 for state in unleash.environments.values())


def test_a_missing_token_is_named_and_no_other_variable_is_used(
    tmp_path: Path, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default variable is set in the process, but the config names another one.
    monkeypatch.setenv("LAUNCHDARKLY_API_TOKEN", "ld-token")
    config = configured(tmp_path, "launchdarkly", ', token_env = "LD_SHOP_TOKEN"')
    registry = ConfiguredBackends(
        config=config,
        http=http,
        state_dir=tmp_path / "state",
        public_url="http://127.0.0.1:3000",
        callback_lookup=lambda token: None,
    )

    with pytest.raises(InvalidInput) as refused:
        registry.flags("web", "staging")

    assert refused.value.message == (
        "service 'web' changes its launchdarkly flag with the token in LD_SHOP_TOKEN, "
        "which is not set"
    )


# --- what the config accepts -----------------------------------------------------------------


def test_one_provider_environment_for_every_release_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        configured(tmp_path, "launchdarkly", ', environment = "production"')

    [problem] = refused.value.problems
    assert (problem.location, problem.message) == (
        "services.web.flag.environment",
        '"production" would be changed by releases to every environment (staging, production); '
        "leave it out to use each release's own environment, or map them: "
        'environment = { staging = "...", production = "..." }',
    )


def test_one_provider_environment_is_fine_for_a_service_released_to_one_environment(
    tmp_path: Path,
) -> None:
    path = tmp_path / "releasebot.toml"
    text = CONFIG.format(provider="launchdarkly", extra=', environment = "prod"')
    path.write_text(
        text.replace(
            'strategy = "dark-launch"', 'strategy = "dark-launch"\nenvironments = ["production"]'
        )
    )

    flag = load_config(path).services["web"].flag

    assert flag is not None and flag.provider_environment("production") == "prod"


def test_a_mapping_names_known_environments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        configured(tmp_path, "launchdarkly", ', environment = { stagin = "test" }')

    [problem] = refused.value.problems
    assert (problem.location, problem.message) == (
        "services.web.flag.environment.stagin",
        "unknown environment 'stagin'; known: staging, production",
    )


def test_the_example_configs_feature_flag_comments_are_valid(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[4] / "releasebot.toml").read_text()
    strategy = re.search(r"# (\[strategies\.dark-launch\])\n# (kind = .*)\n# (ramp = .*)", example)
    flag = re.search(r"# (flag = \{.*\})", example)
    mapping = re.search(r"(environment = \{[^}]*\})", example)
    assert strategy and flag and mapping, "the feature_flag example is gone from releasebot.toml"
    service = '[services.web]\ncommand = ["./deploy.sh"]\nstrategy = "dark-launch"\n' + flag.group(
        1
    ).replace(" }", f", {mapping.group(1)} }}")
    path = tmp_path / "releasebot.toml"
    path.write_text(
        CONFIG.split("[services.web]")[0] + service + "\n" + "\n".join(strategy.groups())
    )

    web = load_config(path).services["web"]

    assert web.flag is not None
    assert web.flag.provider_environment("staging") == "test"
    assert web.flag.provider_environment("production") == "production"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "5",
            "expected the provider's environment in quotes, or a table mapping release "
            'environments to provider ones like { staging = "test" }, got 5',
        ),
        ('{ staging = "" }', 'staging = "": expected the provider\'s environment in quotes'),
        ("{}", "an empty table maps nothing; leave environment out instead"),
        ('{ "a b" = "x" }', '"a b" is not an environment name'),
    ],
)
def test_a_malformed_environment_gets_one_readable_problem(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        configured(tmp_path, "launchdarkly", f", environment = {value}")

    assert [(p.location, p.message) for p in refused.value.problems] == [
        ("services.web.flag.environment", message)
    ]
