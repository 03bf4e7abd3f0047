"""The rollout sub-commands, declared with their handlers: deploy (and its break-glass step),
promote/pause/resume/abort, rollback, checks."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.domain.freeze_windows import local_time
from bot.domain.mrkdwn import Mrkdwn, join, md, person
from bot.domain.strategies import rollback_words
from bot.notify.outbox import Rendered
from bot.release import gates
from bot.release.desk import Desk
from bot.release.snapshots import snapshot
from bot.rollout import rollouts
from bot.rollout.verification import measurements_of
from bot.store.models import ReleasePlan
from commands.grammar import Checks, Deploy, Rollback, RolloutAction
from commands.grammar import parser as grammar
from commands.render import replies
from commands.render.checks import check_report
from commands.subcommand import Kind, SubCommand

Step = Callable[..., ReleasePlan]
DeployWriter = Callable[..., Rendered | None]

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


def approve_override(
    desk: Desk, user: str, plan_id: int, round_seen: int, key: str
) -> Rendered | None:
    """The "Approve override" button of the DM an admin gets."""

    def work(session: Session) -> Rendered:
        status = gates.approve_override(
            session, ctx=desk.ctx, actor=user, plan_id=plan_id, round_seen=round_seen
        )
        return replies.notice(
            md(
                ":unlock: You approved the override of R-{}; {} is told to deploy it.",
                plan_id,
                person(status.requested_by),
            )
        )

    return desk.act(actor=user, request_key=key, work=work)


def with_override(deploy: DeployWriter) -> DeployWriter:
    """Put the break-glass step in front of the deploy writer.

    `/release deploy R-n --override "<reason>"` into a freeze records the request and asks an
    admin, in its own transaction, and answers that it waits; when nothing is frozen or the
    override is already approved, the deploy itself runs.
    """

    def deploy_or_ask(
        cmd: Deploy, *, desk: Desk, user_id: str, request_key: str | None
    ) -> Rendered | None:
        if cmd.override_reason is None:
            return deploy(cmd, desk=desk, user_id=user_id, request_key=request_key)
        reason = cmd.override_reason

        def work(session: Session) -> tuple[gates.OverrideStatus | None]:
            found = gates.request_override(
                session, ctx=desk.ctx, actor=user_id, plan_id=cmd.plan_id, reason=reason
            )
            return (found,)

        key = f"{request_key}:override" if request_key is not None else None
        outcome = desk.act(actor=user_id, request_key=key, work=work)
        if outcome is None:
            return None  # a repeated delivery: the first one answered
        (status,) = outcome
        if status is None:
            return deploy(cmd, desk=desk, user_id=user_id, request_key=request_key)
        return replies.notice(_waiting(status, plan_ref=f"R-{cmd.plan_id}", desk=desk))

    return deploy_or_ask


def _waiting(status: gates.OverrideStatus, *, plan_ref: str, desk: Desk) -> Mrkdwn:
    if status.fresh:
        asked = join(", ", (person(p) for p in status.asked)) or "nobody (no other admin is listed)"
        return md(
            ":rotating_light: {} is waiting for an admin to approve the override (asked: {}). "
            "You get a DM when it is approved; then deploy it with the Deploy button or "
            "`/release deploy {}`.",
            plan_ref,
            asked,
            plan_ref,
        )
    since = local_time(status.requested_at, desk.ctx.config.tz)
    return md(
        ":hourglass_flowing_sand: {} is still waiting for an admin to approve the override {} "
        "asked for ({}).",
        plan_ref,
        person(status.requested_by),
        since,
    )


SUBCOMMANDS = (
    SubCommand(
        name="deploy",
        command=Deploy,
        parse=grammar.parse_deploy,
        usage=(
            '`/release deploy R-<n> [--override "<reason>"]`\n'
            "Starts the rollout now. `--override` breaks through a freeze (admins only, audited "
            "and announced).\n"
            'Example: `/release deploy R-12` or `/release deploy R-12 --override "hotfix for '
            'the payment outage"`'
        ),
        synopsis='`/release deploy R-<n> [--override "<reason>"]`',
        listed=(60, 1),
        kind=Kind.WRITE,
        handler=with_override(deploy),
    ),
    SubCommand(
        name="promote",
        command=RolloutAction,
        parse=grammar.parse_promote,
        usage=(
            "`/release promote R-<n>`\n"
            "Moves a rollout waiting at a manual gate to its next stage.\n"
            "Example: `/release promote R-12`"
        ),
        synopsis="`/release promote|pause|resume|abort R-<n>`",
        listed=(70, 1),
        kind=Kind.WRITE,
        handler=rollout_action,
    ),
    SubCommand(
        name="pause",
        command=RolloutAction,
        parse=grammar.parse_pause,
        usage=("`/release pause R-<n>`\nPauses a running rollout.\nExample: `/release pause R-12`"),
        synopsis=None,
        listed=None,
        kind=Kind.WRITE,
        handler=rollout_action,
    ),
    SubCommand(
        name="resume",
        command=RolloutAction,
        parse=grammar.parse_resume,
        usage=(
            "`/release resume R-<n>`\nResumes a paused rollout.\nExample: `/release resume R-12`"
        ),
        synopsis=None,
        listed=None,
        kind=Kind.WRITE,
        handler=rollout_action,
    ),
    SubCommand(
        name="abort",
        command=RolloutAction,
        parse=grammar.parse_abort,
        usage=(
            "`/release abort R-<n>`\n"
            "Stops the rollout and rolls back to the previous version.\n"
            "Example: `/release abort R-12`"
        ),
        synopsis=None,
        listed=None,
        kind=Kind.WRITE,
        handler=rollout_action,
    ),
    SubCommand(
        name="rollback",
        command=Rollback,
        parse=grammar.parse_rollback,
        usage=(
            "`/release rollback R-<n> [reason]`\n"
            "Rolls a released plan back to the previous released version.\n"
            "Example: `/release rollback R-12 error rate doubled`"
        ),
        synopsis="`/release rollback R-<n> [reason]`",
        listed=(80, 1),
        kind=Kind.WRITE,
        handler=rollback,
    ),
    SubCommand(
        name="checks",
        command=Checks,
        parse=grammar.parse_checks,
        usage=(
            "`/release checks R-<n>`\n"
            "Shows the plan's verification checks and every measurement.\n"
            "Example: `/release checks R-12`"
        ),
        synopsis="`/release checks R-<n>`",
        listed=(120, 1),
        kind=Kind.READ,
        handler=checks,
    ),
)
