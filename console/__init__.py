"""A local stand-in for Slack: Web API, signed requests to the bot, and a channel view."""
