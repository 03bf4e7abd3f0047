"""bot/app"""

# Every entry point here may load releasebot.toml, whose services name registered backends.
import integrations.deploy  # noqa: F401  (registers the built-in deploy backends)
