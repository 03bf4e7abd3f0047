"""Handlers of the rollout sub-commands: deploy, promote/pause/resume/abort, rollback, checks."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.domain.strategies import rollback_words
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.release.snapshots import snapshot
from bot.rollout import rollouts
from bot.rollout.verification import measurements_of
from bot.store.models import ReleasePlan
from commands.grammar import Checks, Deploy, Rollback, RolloutAction
from commands.render import replies
from commands.render.checks import check_report

Step = Callable[..., ReleasePlan]

STEPS: dict[str, Step] = {
    "promote": rollouts.promote,
    "pause": rollouts.pause,
    "resume": rollouts.resume,
    "abort": rollouts.abort,
}
DONE = {
    "promote": ":fast_forward: Promoted {ref}.",
    "pause": ":double_vertical_bar: Paused {ref}.",
    "resume": ":arrow_forward: Resumed {ref}.",
    "abort": ":rewind: Aborting {ref}; rolling back.",
}


def deploy(cmd: Deploy, *, desk: Desk, user_id: str, request_key: str | None) -> Rendered | None:
    """`/release deploy R-<n> [--override "<reason>"]`."""

    def work(session: Session) -> Rendered:
        plan = rollouts.deploy(
            session,
            ctx=desk.ctx,
            actor=user_id,
            plan_id=cmd.plan_id,
            override_reason=cmd.override_reason,
        )
        return replies.notice(f":rocket: Deploying {plan.ref}; follow it on the card's thread.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def rollout_action(
    cmd: RolloutAction, *, desk: Desk, user_id: str, request_key: str | None
) -> Rendered | None:
    """`/release promote|pause|resume|abort R-<n>`."""

    def work(session: Session) -> Rendered:
        plan = STEPS[cmd.action](session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id)
        return replies.notice(DONE[cmd.action].format(ref=plan.ref))

    return desk.act(actor=user_id, request_key=request_key, work=work)


def rollback(
    cmd: Rollback, *, desk: Desk, user_id: str, request_key: str | None
) -> Rendered | None:
    """`/release rollback R-<n> [reason]`."""

    def work(session: Session) -> Rendered:
        plan = rollouts.rollback(
            session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, reason=cmd.reason
        )
        words = rollback_words(plan.version, plan.rollback_version)
        return replies.notice(f":rewind: {plan.ref}: {words}. Follow it on the card's thread.")

    return desk.act(actor=user_id, request_key=request_key, work=work)


def checks(cmd: Checks, *, desk: Desk, user_id: str) -> Rendered:
    """`/release checks R-<n>`: every analysis and its measurements."""
    with desk.db.session() as session:
        snap = snapshot(session, ctx=desk.ctx, plan_id=cmd.plan_id)
        measured = {
            run.id: list(measurements_of(session, run_id=run.id))
            for run in snap.check_runs
            if run.id is not None
        }
    return check_report(snap, measured)


def act_on_button(action: str) -> Callable[[Desk, str, int, int, str], Rendered | None]:
    """A card button for a rollout step (the same as its text form)."""

    def handle(desk: Desk, user: str, plan_id: int, round_seen: int, key: str) -> Rendered | None:
        if action == "deploy":
            return deploy(Deploy(plan_id=plan_id), desk=desk, user_id=user, request_key=key)
        if action == "rollback":
            return rollback(Rollback(plan_id=plan_id), desk=desk, user_id=user, request_key=key)
        return rollout_action(
            RolloutAction(action=action, plan_id=plan_id),  # type: ignore[arg-type]
            desk=desk,
            user_id=user,
            request_key=key,
        )

    return handle
