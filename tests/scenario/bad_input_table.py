"""The bad-input table (issue 9 §3): each row is an input a person or a far side can send,
the exact answer they see, and the surface it arrives on. `test_bad_input.py` runs every row
and checks that nothing changed; `scripts/bad_input_doc.py` renders docs/bad-input.md from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What each row starts from (built through Slack before the bad input is sent).
PRODUCTION_PLAN = "production"  # R-1 checkout 1.4.2 released to staging, R-2 it to production
STAGING_PLAN = "staging"  # R-1 checkout 1.4.2 to staging, approved, not deployed
WEBHOOK_ROLLOUT = "webhook"  # R-1 search 2.0 to staging, deploying through the webhook backend
NOTHING = ""


@dataclass(frozen=True)
class Bad:
    """One bad input: where it arrives, what is sent, and what the sender is answered."""

    surface: str  # slash command | button | modal | deploy callback | config
    given: str  # the input, as the docs show it
    answer: str  # exactly what the person (or far side) is shown
    user: str = "U0REQUESTER"
    setup: str = NOTHING
    # Surface-specific detail: a button's action_id and forged value, a modal's fields, a
    # callback's body and headers, a config's TOML.
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.surface}: {self.given}"


NOT_APPROVER = (
    "you are not an approver for production: environments.production.approvals.approvers "
    "lists <@U0APPROVER1>, <@U0APPROVER2>, <@U0APPROVER3>, @sre"
)
NOT_REQUESTER = "only the requester (<@U0REQUESTER>) or an admin may cancel R-1"
NOT_A_TIME = (
    "'someday' is not a time: use 2026-11-24T15:00, 2026-11-24T15:00Z, now, or from now like "
    "+30m, +2h, +1d"
)
NOT_A_PLAN = "that button does not belong to a release plan"
VERSION_RULE = (
    "is not a valid version: use letters, digits and . _ / + @ : -, like 1.4.2, v2.0.0-rc.1 or "
    "2026.11.26+build.7 (no part between slashes may be empty or start with - or ., and no ..)"
)


def cmd(given: str, answer: str, *, user: str = "U0REQUESTER", setup: str = NOTHING) -> Bad:
    return Bad("slash command", f"/release {given}", answer, user=user, setup=setup)


ROWS: list[Bad] = [
    # -- slash commands ----------------------------------------------------------------------
    cmd("frobnicate R-1", "unknown sub-command 'frobnicate'"),
    cmd("plan", "missing the service name"),
    cmd(
        "plan nosuch 1.0 to staging", "unknown service 'nosuch'; known: checkout, payments, search"
    ),
    cmd("plan checkout 1.4.2 to mars", "unknown environment 'mars'; known: staging, production"),
    cmd("plan checkout 1.4.2 staging", "expected `to <env>` after the version, got 'staging'"),
    cmd(
        "plan checkout 1.4.2 to production",
        "checkout 1.4.2 can't go to production yet: production requires it to be released to "
        "staging first (plan it with `/release plan checkout 1.4.2 to staging`)",
    ),
    cmd("plan checkout 1.4.2 to staging after R-99", "there is no plan R-99"),
    cmd("plan checkout 1.4.2 to staging at someday", NOT_A_TIME),
    # A version is handed to the deploy command: nothing option- or path-like gets that far.
    cmd("plan checkout --help to staging", f"'--help' {VERSION_RULE}"),
    cmd("plan checkout -rf to staging", f"'-rf' {VERSION_RULE}"),
    cmd("plan checkout ../../etc/passwd to staging", f"'../../etc/passwd' {VERSION_RULE}"),
    cmd("edit R-1 version ../x", f"'../x' {VERSION_RULE}", setup=STAGING_PLAN),
    cmd(
        "plan checkout 1.4.2 to staging at 2025-11-24T16:00",
        "the window would start in the past (2025-11-24 16:00 UTC); give `at now` to open it "
        "now, or a later time",
    ),
    cmd("deploy", "missing the plan id, like R-12"),
    cmd("deploy R-99", "there is no plan R-99"),
    cmd("deploy R-x", "expected a plan id like R-12, got 'R-x'"),
    cmd(
        "deploy R-2",
        "can't deploy R-2: it is awaiting approval (a plan deploys once it is approved)",
        setup=PRODUCTION_PLAN,
    ),
    cmd(
        "deploy R-1 --override",
        '`--override` needs a reason: --override "<reason>"',
        setup=STAGING_PLAN,
    ),
    cmd("approve R-99", "there is no plan R-99"),
    cmd("approve R-2", NOT_APPROVER, user="U0STRANGER", setup=PRODUCTION_PLAN),
    cmd(
        "reject R-2",
        "a reason is required: /release reject R-<n> <reason>",
        user="U0APPROVER1",
        setup=PRODUCTION_PLAN,
    ),
    cmd("cancel R-99", "there is no plan R-99"),
    cmd("cancel R-1", NOT_REQUESTER, user="U0STRANGER", setup=STAGING_PLAN),
    cmd(
        "rollback R-1",
        "can't roll back R-1: it is approved (that works only while a plan is released)",
        setup=STAGING_PLAN,
    ),
    cmd(
        "promote R-1",
        "can't promote R-1: it is approved (promote moves a deploying rollout past a gate or a "
        "pause)",
        setup=STAGING_PLAN,
    ),
    cmd(
        "pause R-1",
        "can't pause R-1: it is approved (that works only while a plan is deploying or verifying)",
        setup=STAGING_PLAN,
    ),
    cmd(
        "resume R-1",
        "can't resume R-1: it is approved (that works only while a plan is paused)",
        setup=STAGING_PLAN,
    ),
    cmd(
        "tick R-2 Pizza ordered",
        "R-2 has no checklist item 'Pizza ordered'; its items are 'QA sign-off', "
        "'Smoke tests reviewed'",
        user="U0QA",
        setup=PRODUCTION_PLAN,
    ),
    cmd(
        "tick R-2 QA sign-off",
        "only the item's assignee (<@U0QA>) or an admin may tick 'QA sign-off' on R-2",
        user="U0STRANGER",
        setup=PRODUCTION_PLAN,
    ),
    cmd("edit R-99 version 1.5", "there is no plan R-99"),
    cmd(
        "edit R-1 colour blue",
        "unexpected 'colour'; expected `window`, `version`, `notes`, `risk` or `after`",
        setup=STAGING_PLAN,
    ),
    cmd(
        'freeze mars until +2h reason "maintenance"',
        "unknown environment 'mars'; known: staging, production",
        user="U0ADMIN",
    ),
    cmd("freeze staging", 'a reason is required: reason "<text>"', user="U0ADMIN"),
    cmd(
        "freeze staging 2h maintenance",
        "unexpected '2h'; expected `until` or `reason`",
        user="U0ADMIN",
    ),
    cmd('freeze staging until someday reason "x"', NOT_A_TIME, user="U0ADMIN"),
    cmd("edit R-1 window someday", NOT_A_TIME, setup=STAGING_PLAN),
    cmd("edit R-1 after R-1", "R-1 can't go after itself", setup=STAGING_PLAN),
    cmd("show R-99", "there is no plan R-99"),
    cmd("history nosuch", "unknown service 'nosuch'; known: checkout, payments, search"),
    cmd("list mars", "unknown environment 'mars'; known: staging, production"),
    cmd("unfreeze mars", "unknown environment 'mars'; known: staging, production", user="U0ADMIN"),
    cmd(
        "unlock checkout staging",
        'a reason is required: /release unlock <service> <env> "<reason>"',
        user="U0ADMIN",
    ),
    cmd("audit R-99", "there is no plan R-99"),
    # -- buttons (signed interaction payloads) -----------------------------------------------
    Bad(
        "button",
        "Approve by someone who is no approver",
        NOT_APPROVER,
        user="U0STRANGER",
        setup=PRODUCTION_PLAN,
        detail={"card": "R-2", "action_id": "plan_approve"},
    ),
    Bad(
        "button",
        "Approve on R-2's card with a forged value `1` (R-1, released)",
        NOT_A_PLAN,
        user="U0APPROVER1",
        setup=PRODUCTION_PLAN,
        detail={"card": "R-2", "action_id": "plan_approve", "value": "1"},
    ),
    Bad(
        "button",
        "Deploy with a forged value `99` (no such plan)",
        NOT_A_PLAN,
        setup=STAGING_PLAN,
        detail={"card": "R-1", "action_id": "plan_deploy", "value": "99"},
    ),
    Bad(
        "button",
        "Deploy with a forged value `abc`",
        NOT_A_PLAN,
        setup=STAGING_PLAN,
        detail={"card": "R-1", "action_id": "plan_deploy", "value": "abc"},
    ),
    Bad(
        "button",
        "Cancel by someone who did not plan it",
        NOT_REQUESTER,
        user="U0STRANGER",
        setup=STAGING_PLAN,
        detail={"card": "R-1", "action_id": "plan_cancel"},
    ),
    # -- the new-plan modal ------------------------------------------------------------------
    Bad(
        "modal",
        "version `1.4 2`",
        f"new_version: '1.4 2' {VERSION_RULE}",
        detail={"new_service": "checkout", "new_version": "1.4 2", "new_environment": "staging"},
    ),
    Bad(
        "modal",
        "the window closes before it opens",
        "new_window_end: the window must close after it opens",
        detail={
            "new_service": "checkout",
            "new_version": "1.4.2",
            "new_environment": "staging",
            "new_window_start": 1_900_000_000,
            "new_window_end": 1_899_990_000,
        },
    ),
    Bad(
        "modal",
        "after `R-x`",
        "new_after: 'R-x' is not a plan id; plan ids look like R-12",
        detail={
            "new_service": "checkout",
            "new_version": "1.4.2",
            "new_environment": "staging",
            "new_after": "R-x",
        },
    ),
    Bad(
        "modal",
        "after `R-99` (no such plan)",
        "new_after: there is no plan R-99",
        detail={
            "new_service": "checkout",
            "new_version": "1.4.2",
            "new_environment": "staging",
            "new_after": "R-99",
        },
    ),
    Bad(
        "modal",
        "production before staging",
        # Whole: the command that is the way out ends it.
        "new_environment: checkout 1.4.2 can't go to production yet: production requires it to "
        "be released to staging first (plan it with `/release plan checkout 1.4.2 to staging`)",
        detail={"new_service": "checkout", "new_version": "1.4.2", "new_environment": "production"},
    ),
    # -- deploy callbacks (POST /hooks/deploy/<token>) ---------------------------------------
    Bad(
        "deploy callback",
        "an unknown token",
        "401 callback rejected: no deployment is waiting for this token",
        setup=WEBHOOK_ROLLOUT,
        detail={"token": "nosuchtoken", "body": {"state": "succeeded", "sequence": 1}},
    ),
    Bad(
        "deploy callback",
        "a wrong signature",
        "401 callback rejected: the signature does not match",
        setup=WEBHOOK_ROLLOUT,
        detail={"body": {"state": "succeeded", "sequence": 1}, "signature": "sha256=00"},
    ),
    Bad(
        "deploy callback",
        "no `sequence`",
        "400 callback rejected: `sequence` must be a non-negative integer that grows with every "
        "callback about the deployment",
        setup=WEBHOOK_ROLLOUT,
        detail={"body": {"state": "succeeded"}},
    ),
    Bad(
        "deploy callback",
        "state `exploded`",
        "400 callback rejected: state must be one of pending, running, succeeded, failed, "
        "cancelled",
        setup=WEBHOOK_ROLLOUT,
        detail={"body": {"state": "exploded", "sequence": 1}},
    ),
    Bad(
        "deploy callback",
        "a body that is not JSON",
        "400 callback rejected: the body is not JSON",
        setup=WEBHOOK_ROLLOUT,
        detail={"raw": "state=succeeded"},
    ),
    Bad(
        "deploy callback",
        "a timestamp an hour old",
        "401 callback rejected: its timestamp is more than 5 minutes away from now",
        setup=WEBHOOK_ROLLOUT,
        detail={"body": {"state": "succeeded", "sequence": 1}, "age": 3600},
    ),
    # -- config (releasebot check-config) ----------------------------------------------------
    Bad(
        "config",
        'a freeze `cron = "* * * * *"`',
        'releasebot.toml: environments.production.freezes[0].cron: "* * * * *" fires every 1m '
        "at its closest; a recurring schedule may fire at most hourly (at least 1h between "
        'firings), e.g. "0 17 * * FRI"',
        detail={"replace": ('cron = "0 17 * * FRI"', 'cron = "* * * * *"')},
    ),
    Bad(
        "config",
        "a freeze longer than its repeat",
        'releasebot.toml: environments.production.freezes[0].cron: the freeze lasts 1d1h but "0 '
        '17 * * *" starts it again 1d later at the closest, so it would overlap itself and never '
        "lift; make duration shorter than 1d or let the cron fire less often",
        detail={
            "replace": (
                'cron = "0 17 * * FRI", duration = "63h"',
                'cron = "0 17 * * *", duration = "25h"',
            )
        },
    ),
    Bad(
        "config",
        "an unknown key",
        "releasebot.toml: environments.staging.colour: unknown key 'colour'; expected one of: "
        "order, requires, auto_deploy, approvals, freezes, checklist, permissions",
        detail={"replace": ("order = 1", 'order = 1\ncolour = "blue"')},
    ),
    Bad(
        "config",
        "an unknown strategy",
        "releasebot.toml: services.checkout.strategy: unknown strategy 'yolo'; known: canary, "
        "all_at_once, blue_green",
        detail={"replace": ('strategy = "canary"', 'strategy = "yolo"')},
    ),
    Bad(
        "config",
        "a TOML syntax error",
        "releasebot.toml: line 5, column 10: invalid TOML: Expected ']' at the end of a table "
        "declaration",
        detail={"replace": ("[channels]", "[channels")},
    ),
    Bad(
        "config",
        "a negative number of approvals",
        "releasebot.toml: environments.production.approvals.required: must be at least 0, got -1",
        detail={"replace": ("required = 2, approvers", "required = -1, approvers")},
    ),
    Bad(
        "config",
        "a check nobody defined",
        "releasebot.toml: services.checkout.checks[0]: unknown check 'nosuch'; known: "
        "checkout-health",
        detail={"replace": ('checks = ["checkout-health"]', 'checks = ["nosuch"]')},
    ),
]
