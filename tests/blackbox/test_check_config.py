"""`releasebot check-config` as an operator runs it, from the deployment directory (issue 9.14)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.blackbox.harness import Deployment, FakeSlack, ShippedBot, shipped_bot


@pytest.fixture
def offline(deployment: Deployment, slack: FakeSlack) -> Iterator[ShippedBot]:
    """The installed script with the documented variables; nothing started, no database."""
    with shipped_bot(deployment.root, slack) as bot:
        yield bot


def test_a_freeze_every_minute_is_refused_with_its_reason(
    offline: ShippedBot, deployment: Deployment
) -> None:
    shipped = (deployment.root / "releasebot.toml").read_text()
    assert offline.run("check-config").code == 0

    every_minute = shipped.replace(
        "[environments.production]\n",
        "[environments.production]\n"
        'freezes = [{ cron = "* * * * *", duration = "30s", reason = "deploy party" }]\n',
    )
    assert every_minute != shipped
    (deployment.root / "minutely.toml").write_text(every_minute)
    refused = offline.run("check-config", env={"RELEASEBOT_CONFIG": "minutely.toml"})

    assert refused.code == 1, refused
    assert refused.stdout.strip() == (
        'minutely.toml: environments.production.freezes[0].cron: "* * * * *" fires every 1m at '
        "its closest; a recurring schedule may fire at most hourly (at least 1h between "
        'firings), e.g. "0 17 * * FRI"'
    ), refused.stdout
    # The check wrote nothing: no database next to the config.
    assert not (deployment.root / "releasebot.db").exists()
