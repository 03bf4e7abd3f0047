"""Domain errors: each carries a message a person can act on."""


class ReleasebotError(Exception):
    """Base of every error whose message is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ReleasebotError):
    """An unknown plan, service, environment or check."""


class InvalidInput(ReleasebotError):
    """Input that parses but makes no sense (a window that ends before it starts)."""


class IllegalTransition(ReleasebotError):
    """A lifecycle step that the plan's current state does not allow."""


class PermissionDenied(ReleasebotError):
    """A policy refused the action; the message names the rule. Refusals are audited."""

    def __init__(self, message: str, *, plan_id: int | None = None) -> None:
        super().__init__(message)
        self.plan_id = plan_id


class BackendError(ReleasebotError):
    """A deployment backend or check target failed; the message is the far side's."""
