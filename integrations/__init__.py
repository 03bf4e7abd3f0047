"""Outbound clients: deployment backends, verification checks, changelogs, feature flags."""
