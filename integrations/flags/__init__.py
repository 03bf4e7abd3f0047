"""Feature-flag clients for the feature_flag strategy: LaunchDarkly and Unleash."""

from bot.ports.flags import FlagClient
from integrations.flags.launchdarkly import LaunchDarklyFlags
from integrations.flags.unleash import UnleashFlags

__all__ = ["FlagClient", "LaunchDarklyFlags", "UnleashFlags"]
