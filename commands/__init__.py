"""The Slack surface: listeners, the `/release` grammar and Block Kit rendering."""
