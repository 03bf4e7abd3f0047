"""What the console needs to know: the bot's address and secret, and who is in the workspace."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from bot.domain.clock import Clock, SystemClock
from console.workspace import Workspace

# Slack gives an app 3 seconds to acknowledge a command or interaction.
BOT_ACK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class ConsoleUser:
    """Someone the console lets you act as."""

    id: str
    name: str
    title: str = ""
    is_admin: bool = False


@dataclass
class ConsoleSettings:
    """Everything `create_console_app` needs; `workspace` is shared when given."""

    signing_secret: str
    bot_events_url: str
    bot_token: str
    team_id: str = "T0CONSOLE"
    team_domain: str = "releasebot-console"
    api_app_id: str = "A0RELEASEBOT"
    bot_user_id: str = "U0RELEASEBOT"
    command: str = "/release"
    channels: list[tuple[str, str]] = field(default_factory=list)
    users: list[ConsoleUser] = field(default_factory=list)
    usergroups: list[tuple[str, str, list[str]]] = field(default_factory=list)
    workspace: Workspace | None = None
    clock: Clock = field(default_factory=SystemClock)
    bot_timeout_seconds: float = BOT_ACK_TIMEOUT_SECONDS
    # Tests swap the network for httpx.MockTransport; None means real HTTP.
    bot_transport: httpx.AsyncBaseTransport | None = None
    demo_healthy: bool = True
    # Where permalinks point: the console's own address opens them in the console.
    permalink_base: str | None = None

    def build_workspace(self) -> Workspace:
        """The shared workspace, or a new one filled from these settings."""
        workspace = self.workspace or Workspace(
            team_id=self.team_id,
            team_domain=self.team_domain,
            bot_token=self.bot_token,
            bot_user_id=self.bot_user_id,
            app_id=self.api_app_id,
            clock=self.clock,
            permalink_base=self.permalink_base,
        )
        for channel_id, name in self.channels:
            if channel_id not in workspace.channels:
                workspace.add_channel(channel_id, name)
        for user in self.users:
            if user.id not in workspace.users:
                workspace.add_user(user.id, user.name, title=user.title, is_admin=user.is_admin)
        for group_id, handle, members in self.usergroups:
            if group_id not in workspace.usergroups:
                workspace.add_usergroup(group_id, handle, members)
        return workspace
