"""Approval rules (SPEC §5): a quorum of listed approvers, never the requester; a no rejects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.context import DomainContext
from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.events import PlanChanged
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import join, md, person
from bot.domain.states import state_label
from bot.notify import outbox
from bot.notify.thread import say
from bot.release.plans import get_plan, transition
from bot.store import audit, unit_of_work
from bot.store.models import Approval, Decision, PlanState, ReleasePlan


@dataclass(frozen=True)
class ApprovalStatus:
    """Where a plan's current approval round stands, for the card and the reminders."""

    required: int
    approvals: tuple[Approval, ...]
    rejections: tuple[Approval, ...]
    eligible: tuple[str, ...]

    @property
    def missing(self) -> int:
        """How many more approvals the quorum needs."""
        return max(0, self.required - len(self.approvals))

    @property
    def waiting_on(self) -> tuple[str, ...]:
        """The listed approvers (ids and @groups) who have not decided yet."""
        decided = {a.approver_id for a in (*self.approvals, *self.rejections)}
        return tuple(p for p in self.eligible if p not in decided)


def approval_status(session: Session, *, ctx: DomainContext, plan: ReleasePlan) -> ApprovalStatus:
    """The decisions of the plan's current round against its environment's policy."""
    policy = ctx.config.environment(plan.environment).approvals
    decisions = _decisions(session, plan=plan)
    return ApprovalStatus(
        required=policy.required,
        approvals=tuple(
            d for d in decisions if d.decision == Decision.APPROVE and not d.is_override
        ),
        rejections=tuple(d for d in decisions if d.decision == Decision.REJECT),
        eligible=tuple(policy.approvers),
    )


def ensure_may_decide(
    ctx: DomainContext, *, actor: str, plan: ReleasePlan, round_seen: int | None = None
) -> None:
    """Refuse a decision from someone the policy does not count, or on a stale card."""
    policy = ctx.config.environment(plan.environment).approvals
    if round_seen is not None and round_seen != plan.approval_round:
        raise InvalidInput(
            f"{plan.ref} changed after this card was drawn; read the updated card and decide again"
        )
    if plan.state != PlanState.AWAITING_APPROVAL:
        raise InvalidInput(
            f"{plan.ref} is {state_label(plan.state)}; it is not waiting for a decision"
        )
    # The requester hears the rule that applies to them, whether or not they are listed.
    if actor == plan.requester_id and not policy.allow_self:
        raise PermissionDenied(
            f"you requested {plan.ref}, and {plan.environment} does not count a requester's "
            "own approval (approvals.allow_self = false)",
            plan_id=plan.id,
        )
    if not ctx.is_member(actor, policy.approvers):
        # The approvers are named as mentions: Slack shows them as people (issue 9.3).
        raise PermissionDenied(
            md(
                "you are not an approver for {}: environments.{}.approvals.approvers lists {}",
                plan.environment,
                plan.environment,
                join(", ", (person(p) for p in policy.approvers)),
            ),
            plan_id=plan.id,
        )


def decide(
    session: Session,
    *,
    ctx: DomainContext,
    actor: str,
    plan_id: int,
    decision: Decision,
    comment: str | None,
    round_seen: int | None = None,
) -> ReleasePlan:
    """Record one approver's decision and apply it: quorum approves, any rejection rejects.

    The plan row is locked for the transaction and (plan, round, approver) is unique, so two
    approvers at once, a double click or a redelivery yield exactly the decisions a person expects.
    """
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    ensure_may_decide(ctx, actor=actor, plan=plan, round_seen=round_seen)
    if decision == Decision.REJECT and not comment:
        raise InvalidInput("a rejection needs a reason, so the requester knows what to fix")
    now = ctx.clock.now()
    assert plan.id is not None
    already = session.exec(
        select(Approval).where(
            Approval.plan_id == plan.id,
            Approval.round == plan.approval_round,
            Approval.approver_id == actor,
        )
    ).first()
    if already is not None:
        verb = "approved" if already.decision == Decision.APPROVE else "rejected"
        raise InvalidInput(f"you already {verb} {plan.ref}")
    try:
        with session.begin_nested():
            session.add(
                Approval(
                    plan_id=plan.id,
                    round=plan.approval_round,
                    approver_id=actor,
                    decision=decision,
                    comment=comment,
                    decided_at=now,
                )
            )
    except IntegrityError as exc:
        raise InvalidInput(f"your decision on {plan.ref} is already recorded") from exc
    audit.record(
        session,
        at=now,
        actor_id=actor,
        action=f"approval.{decision.value}",
        plan_id=plan.id,
        reason=comment,
        detail={"round": plan.approval_round},
    )
    status = approval_status(session, ctx=ctx, plan=plan)
    releases = ctx.config.channels.releases
    if decision == Decision.REJECT:
        transition(session, ctx=ctx, plan=plan, event=Event.REJECT, actor=actor, reason=comment)
        line = md(":x: {} rejected {}: {}", person(actor), plan.ref, comment)
    else:
        line = md(
            ":white_check_mark: {} approved {} ({} of {}){}",
            person(actor),
            plan.ref,
            len(status.approvals),
            status.required,
            md(": {}", comment) if comment else "",
        )
        if status.missing == 0:
            transition(session, ctx=ctx, plan=plan, event=Event.APPROVE, actor=actor)
            line = md("{} — {} is approved.", line, plan.ref)
        else:
            plan.revision += 1
            outbox.owe_card(session, plan_id=plan.id, channel=releases, now=now)
    say(session, ctx=ctx, plan=plan, text=line)
    if plan.state != PlanState.AWAITING_APPROVAL:
        outbox.owe_message(
            session,
            channel=plan.requester_id,
            template="decision_to_requester",
            plan_id=plan.id,
            now=now,
        )
    unit_of_work.record(session, PlanChanged(plan.id), ctx=ctx)
    return plan


def _decisions(session: Session, *, plan: ReleasePlan) -> Sequence[Approval]:
    return session.exec(
        select(Approval)
        .where(Approval.plan_id == plan.id, Approval.round == plan.approval_round)
        .order_by(col(Approval.decided_at))
    ).all()
