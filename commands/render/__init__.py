"""Block Kit, built in one place by pure functions from read models."""
