"""The dry-run backend (`backend = "noop"`): every stage "deploys" at once and succeeds.

Nothing is called and nothing changes anywhere. Each stage records what a real backend would
have been given — the RELEASE_* variables of that stage — in its handle, which the engine
persists with the stage, so the stage's output (and a restarted bot) can show it; the stage
says plainly that it was a dry run. Useful to try a new service's plans, approvals, freezes
and strategy before it deploys anything.
"""

from __future__ import annotations

from bot.domain.config import BackendSettings
from bot.domain.placeholders import release_environment
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.registration import BackendDeps, register_backend

NAME = "noop"
DRY_RUN = {
    "deploy": "dry run: the noop backend deployed nothing",
    "rollback": "dry run: the noop backend rolled nothing back",
}


class NoopSettings(BackendSettings):
    """A dry run has no keys of its own."""


class NoopBackend:
    """Succeeds at once, having done nothing but note what it was asked."""

    name = NAME

    def start(self, request: DeployRequest) -> DeployHandle:
        return DeployHandle(backend=self.name, ref=release_environment(request), url=None)

    def find(self, request: DeployRequest) -> DeployHandle | None:
        # Nothing ran, so there is nothing to reconcile: starting again is the same dry run.
        return None

    def status(self, handle: DeployHandle) -> DeployStatus:
        action = str(handle.ref.get("RELEASE_ACTION", "deploy"))
        would_have = "\n".join(f"{name}={value}" for name, value in sorted(handle.ref.items()))
        return DeployStatus(
            DeployState.SUCCEEDED,
            DRY_RUN.get(action, DRY_RUN["deploy"]),
            output_tail=f"would have called the deploy with:\n{would_have}",
        )

    def cancel(self, handle: DeployHandle) -> None:
        return None


def _build(settings: NoopSettings, deps: BackendDeps) -> NoopBackend:
    return NoopBackend()


register_backend(NAME, NoopSettings, _build)
