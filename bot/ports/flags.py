"""What the feature_flag strategy asks of a flag service."""

from __future__ import annotations

from typing import Protocol

from bot.domain.errors import InvalidInput


class FlagClient(Protocol):
    def set_rollout(self, flag_key: str, percentage: int) -> None:
        """Turn the flag on for `percentage` percent of traffic (0-100)."""
        ...

    def turn_off(self, flag_key: str) -> None:
        """Turn the flag off for everyone."""
        ...


def check_percentage(percentage: int) -> int:
    """Refuse a ramp step outside 0-100 before anything is sent."""
    if not 0 <= percentage <= 100:
        raise InvalidInput(f"a rollout percentage must be between 0 and 100, not {percentage}")
    return percentage
