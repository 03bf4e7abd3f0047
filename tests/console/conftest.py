"""Fixtures for the console's tests: a workspace shaped like SPEC §10, served on a real port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def workspace(clock: ManualClock) -> Workspace:
    workspace = Workspace(clock=clock)
    workspace.add_channel("C0RELEASES", "releases")
    workspace.add_channel("C0ANNOUNCE", "announcements")
    workspace.add_channel("C0ONCALL", "oncall")
    workspace.add_user("U0REQUESTER", "rita", title="Engineer")
    workspace.add_user("U0APPROVER1", "alice", title="Release manager")
    workspace.add_user("U0APPROVER2", "bob", title="SRE")
    workspace.add_user("U0ADMIN", "ada", title="Admin", is_admin=True)
    workspace.add_usergroup("S0SRE", "sre", ["U0APPROVER2", "U0ADMIN"])
    return workspace


@pytest.fixture
def api_url(workspace: Workspace) -> Iterator[str]:
    with running_server(create_slack_api_app(workspace)) as url:
        yield url


@pytest.fixture
def client(workspace: Workspace, api_url: str) -> WebClient:
    return WebClient(token=workspace.bot_token, base_url=api_url + "/api/")
