"""Per-environment policy: order, approvals, freezes, checklist and who may do what."""

from __future__ import annotations

from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from bot.domain.config.base import ConfigModel, Loc, raise_problems
from bot.domain.config.values import (
    ADMINS,
    ANYONE,
    Cron,
    Grantee,
    Name,
    PositiveDuration,
    Principal,
    Text,
    TimeZoneName,
    is_user_id,
)


class ApprovalPolicy(ConfigModel):
    """How many listed approvers must say yes before a plan may deploy."""

    required: int = Field(0, ge=0, description="how many approvals a plan needs (0: none)")
    approvers: list[Principal] = Field(
        default_factory=list, description="user ids and @groups whose clicks count"
    )
    allow_self: bool = Field(False, description="whether the requester's own approval counts")

    @model_validator(mode="after")
    def _quorum_is_reachable(self) -> Self:
        people = {a for a in self.approvers if is_user_id(a)}
        has_group = any(not is_user_id(a) for a in self.approvers)
        if self.required and not self.approvers:
            raise_problems(
                "ApprovalPolicy",
                [
                    (
                        ("required",),
                        f"{self.required} approval(s) required but no approvers are listed; "
                        'add user ids or @groups to approvers, e.g. approvers = ["@sre"]',
                    )
                ],
            )
        # With a group listed the quorum can be met by its members, so only count individuals
        # when no group is there to make up the difference.
        if not has_group and self.required > len(people):
            raise_problems(
                "ApprovalPolicy",
                [
                    (
                        ("required",),
                        f"{self.required} approvals required but only {len(people)} approver(s) "
                        "listed, so no plan could ever be approved",
                    )
                ],
            )
        return self


class Freeze(ConfigModel):
    """A recurring freeze: it starts at every cron match and lasts `duration`."""

    cron: Cron = Field(description='when the freeze starts, e.g. "0 17 * * FRI"')
    duration: PositiveDuration = Field(description='how long it lasts, e.g. "63h"')
    reason: Text = Field(description="shown to whoever is refused a deploy")
    timezone: TimeZoneName | None = Field(None, description="defaults to the top-level timezone")

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        """The zone the cron is read in: this freeze's own, else the team's."""
        return ZoneInfo(self.timezone) if self.timezone else default


ChecklistPhase = Literal["pre_deploy", "post_release"]


class ChecklistItem(ConfigModel):
    """A milestone every plan to this environment starts with."""

    item: Text = Field(description='what must be done, e.g. "QA sign-off"')
    assignee: Principal = Field(description="the user id or @group who ticks it")
    required: bool = True
    phase: ChecklistPhase = Field(
        "pre_deploy", description="pre_deploy: before deploying; post_release: before released"
    )
    per_version: bool | None = Field(
        None,
        description="a sign-off of one version: editing the plan's version opens it again "
        "(default: true for pre_deploy items)",
    )

    @model_validator(mode="after")
    def _per_version_needs_a_pre_deploy_item(self) -> Self:
        # A plan's version can only be edited before it deploys, and a post-release item is
        # only ticked after that, so it never holds a sign-off an edit could invalidate.
        if self.per_version and self.phase == "post_release":
            raise_problems(
                "ChecklistItem",
                [
                    (
                        ("per_version",),
                        "only a pre_deploy item can be per_version: a post_release item is "
                        "ticked after the deploy, when the plan's version can no longer change",
                    )
                ],
            )
        return self

    @property
    def reopens_on_new_version(self) -> bool:
        """True when a new version of the plan makes this item's tick stale."""
        if self.per_version is not None:
            return self.per_version
        return self.phase == "pre_deploy"


PermissionAction = Literal["plan", "deploy", "rollback", "freeze", "override"]


class Permissions(ConfigModel):
    """Who may do what; each list holds user ids, @groups, "anyone" or "admins"."""

    plan: list[Grantee] = Field(default_factory=lambda: [ANYONE])
    # The approval policy is what guards deploys, so the button itself is open by default.
    deploy: list[Grantee] = Field(default_factory=lambda: [ANYONE])
    rollback: list[Grantee] = Field(default_factory=lambda: [ANYONE])
    freeze: list[Grantee] = Field(default_factory=lambda: [ADMINS])
    override: list[Grantee] = Field(default_factory=lambda: [ADMINS])

    def granted(self, action: PermissionAction) -> list[str]:
        """Who may perform `action` (may contain "anyone" and "admins")."""
        grantees: list[str] = getattr(self, action)
        return grantees


class Environment(ConfigModel):
    """One `[environments.<name>]` table."""

    order: int = Field(0, description="position in listings and promotions (lowest first)")
    requires: Name | None = Field(
        None, description="an environment a version must be released to first"
    )
    auto_deploy: bool = Field(False, description="start approved plans when their window opens")
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    freezes: list[Freeze] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    permissions: Permissions = Field(default_factory=Permissions)

    @model_validator(mode="after")
    def _checklist_items_are_unique(self) -> Self:
        # `/release tick R-<n> <item>` finds items by their text.
        seen: set[str] = set()
        problems: list[tuple[Loc, str]] = []
        for index, entry in enumerate(self.checklist):
            key = entry.item.strip().casefold()
            if key in seen:
                problems.append(
                    (
                        ("checklist", index, "item"),
                        f"'{entry.item}' is listed twice in this checklist",
                    )
                )
            seen.add(key)
        raise_problems("Environment", problems)
        return self
