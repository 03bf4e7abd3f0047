"""The `/release` grammar: every accepted form, every kind of mistake, times, and fuzzing."""

from __future__ import annotations

import contextlib
import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import ReleasebotError
from bot.domain.versions import VERSION_RULE
from commands.grammar import (
    INPUT_LIMIT,
    Approve,
    Audit,
    Cancel,
    Checks,
    Command,
    Deploy,
    Edit,
    Freeze,
    Freezes,
    Help,
    History,
    ListPlans,
    New,
    Notes,
    Plan,
    Reject,
    Rollback,
    RolloutAction,
    Show,
    Tick,
    Unfreeze,
    Unlock,
    UsageError,
)
from commands.registry import NAMES as SUBCOMMANDS
from commands.registry import parse_command, usage_for

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 in Berlin (CET, UTC+1)
FUZZ = settings(max_examples=300, deadline=None, database=None)


def parse(text: str, *, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> Command:
    return parse_command(text, now=now, tz=tz)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(**fields: object) -> Plan:
    base: dict[str, object] = {
        "service": "checkout",
        "version": "v1.4.2",
        "environment": "production",
    }
    return Plan(**(base | fields))  # type: ignore[arg-type]


PLAN = "plan checkout v1.4.2 to production"

ACCEPTED: list[tuple[str, Command]] = [
    # help
    ("", Help()),
    ("   ", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("--help", Help()),
    ("help plan", Help(topic="plan")),
    ("help Promote", Help(topic="promote")),
    ("help help", Help(topic="help")),
    ("deploy --help", Help(topic="deploy")),
    ("history help", Help(topic="history")),
    # new
    ("new", New()),
    ("New", New()),
    # plan: positional part, case folding, version shapes
    (PLAN, plan()),
    ("PLAN Checkout v1.4.2 TO Production", plan()),
    ("plan checkout 1.2.3+build.4 to prod", plan(version="1.2.3+build.4", environment="prod")),
    ("plan checkout a1b2c3d to staging", plan(version="a1b2c3d", environment="staging")),
    (
        "plan checkout refs/tags/v2.0 to staging",
        plan(version="refs/tags/v2.0", environment="staging"),
    ),
    (
        "plan checkout ghcr.io/acme/checkout@sha256:ab12 to staging",
        plan(version="ghcr.io/acme/checkout@sha256:ab12", environment="staging"),
    ),
    (
        "plan api_gw.v2 1.0 to eu-west.prod",
        plan(service="api_gw.v2", version="1.0", environment="eu-west.prod"),
    ),
    ('plan "checkout" "v1.4.2" to "production"', plan()),
    # plan: times
    (f"{PLAN} at now", plan(start=NOW)),
    (f"{PLAN} at +30m", plan(start=NOW + timedelta(minutes=30))),
    (
        f"{PLAN} at +1h30m until +1d",
        plan(start=utc(2026, 11, 20, 13, 30), end=utc(2026, 11, 21, 12)),
    ),
    (f"{PLAN} at 2026-11-24T15:00", plan(start=utc(2026, 11, 24, 14))),
    (f"{PLAN} at 2026-11-24T15:00:00", plan(start=utc(2026, 11, 24, 14))),
    (f'{PLAN} at "2026-11-24 15:00"', plan(start=utc(2026, 11, 24, 14))),
    (f"{PLAN} at “2026-11-24 15:00”", plan(start=utc(2026, 11, 24, 14))),
    (f"{PLAN} at 2026-11-24 15:00", plan(start=utc(2026, 11, 24, 14))),
    (f"{PLAN} at 2026-11-24T15:00Z", plan(start=utc(2026, 11, 24, 15))),
    (f"{PLAN} at 2026-11-24T15:00+01:00", plan(start=utc(2026, 11, 24, 14))),
    (f"{PLAN} at 2026-11-24T15:00-05:00", plan(start=utc(2026, 11, 24, 20))),
    (f"{PLAN} until 2026-11-24T18:00", plan(end=utc(2026, 11, 24, 17))),
    # a window in the past is the domain's call, not the grammar's
    (f"{PLAN} at 2020-01-01T10:00", plan(start=utc(2020, 1, 1, 9))),
    # plan: other options, any order, keywords in any case
    (f"{PLAN} strategy canary", plan(strategy="canary")),
    (f"{PLAN} STRATEGY Blue_Green", plan(strategy="blue_green")),
    (f"{PLAN} after R-11", plan(after=(11,))),
    (f"{PLAN} after R-11 r-12", plan(after=(11, 12))),
    (f"{PLAN} after R-11,R-12", plan(after=(11, 12))),
    (f"{PLAN} after R-11, R-12 strategy canary", plan(after=(11, 12), strategy="canary")),
    (f"{PLAN} after R-11 R-11", plan(after=(11,))),
    (f'{PLAN} notes "needs the new schema"', plan(notes="needs the new schema")),
    (f"{PLAN} notes “needs the new schema”", plan(notes="needs the new schema")),
    (f"{PLAN} notes \u2018needs the new schema\u2019", plan(notes="needs the new schema")),
    (f"{PLAN} notes 'it's the schema'", plan(notes="it's the schema")),
    (f'{PLAN} notes "say \\"hi\\" to QA"', plan(notes='say "hi" to QA')),
    (f"{PLAN} notes needs the schema at 9", plan(notes="needs the schema at 9")),
    (f"{PLAN} notes deploy after lunch", plan(notes="deploy after lunch")),
    (
        f"{PLAN} strategy canary notes no strategy canary",
        plan(strategy="canary", notes="no strategy canary"),
    ),
    (f'{PLAN} notes ""', plan(notes="")),
    (
        f'{PLAN} notes "after lunch" AFTER R-3 until +2h strategy canary at +1h',
        plan(
            notes="after lunch",
            after=(3,),
            end=NOW + timedelta(hours=2),
            strategy="canary",
            start=NOW + timedelta(hours=1),
        ),
    ),
    # list
    ("list", ListPlans()),
    ("list production", ListPlans(environment="production")),
    ("list --all", ListPlans(include_all=True)),
    ("LIST Production --ALL", ListPlans(environment="production", include_all=True)),
    ("list --all production", ListPlans(environment="production", include_all=True)),
    ("list \u2014all", ListPlans(include_all=True)),  # macOS smart dashes
    # plan id forms
    ("show R-12", Show(plan_id=12)),
    ("show r-12", Show(plan_id=12)),
    ("SHOW R-012", Show(plan_id=12)),
    ("\uff53\uff48\uff4f\uff57 R\uff0d12", Show(plan_id=12)),  # full-width, from an IME
    # edit: exactly one change
    ("edit R-3 window +1h", Edit(plan_id=3, window_start=NOW + timedelta(hours=1))),
    (
        "edit R-3 window 2026-11-25T09:00 until 2026-11-25T11:00",
        Edit(plan_id=3, window_start=utc(2026, 11, 25, 8), window_end=utc(2026, 11, 25, 10)),
    ),
    (
        "edit R-3 WINDOW now UNTIL +2h",
        Edit(plan_id=3, window_start=NOW, window_end=NOW + timedelta(hours=2)),
    ),
    ("edit R-3 version v1.4.3", Edit(plan_id=3, version="v1.4.3")),
    ('edit R-3 notes "skip the cache warm-up"', Edit(plan_id=3, notes="skip the cache warm-up")),
    ("edit R-3 notes skip the cache warm-up", Edit(plan_id=3, notes="skip the cache warm-up")),
    ('edit R-3 notes ""', Edit(plan_id=3, notes="")),
    ('edit R-3 risk "schema change is one-way"', Edit(plan_id=3, risk="schema change is one-way")),
    ("edit R-3 after R-2", Edit(plan_id=3, after=(2,))),
    ("edit R-3 AFTER r-1, R-2", Edit(plan_id=3, after=(1, 2))),
    ("edit R-3 after none", Edit(plan_id=3, after=())),
    ("edit R-3 after NONE", Edit(plan_id=3, after=())),
    # approve / reject
    ("approve R-5", Approve(plan_id=5)),
    (
        "approve R-5 looks good, schema reviewed",
        Approve(plan_id=5, comment="looks good, schema reviewed"),
    ),
    ('approve R-5 "lgtm"', Approve(plan_id=5, comment="lgtm")),
    ("approve R-5 it\u2019s fine", Approve(plan_id=5, comment="it\u2019s fine")),
    ("reject R-5 migration not reviewed", Reject(plan_id=5, reason="migration not reviewed")),
    ('reject R-5 reason "no owner on call"', Reject(plan_id=5, reason="no owner on call")),
    ("reject R-5 it's not ready", Reject(plan_id=5, reason="it's not ready")),
    # deploy
    ("deploy R-7", Deploy(plan_id=7)),
    (
        'deploy R-7 --override "payment outage hotfix"',
        Deploy(plan_id=7, override_reason="payment outage hotfix"),
    ),
    (
        "deploy R-7 --OVERRIDE payment outage hotfix",
        Deploy(plan_id=7, override_reason="payment outage hotfix"),
    ),
    ("deploy R-7 \u2014override hotfix", Deploy(plan_id=7, override_reason="hotfix")),
    # rollout actions
    ("promote R-7", RolloutAction(action="promote", plan_id=7)),
    ("pause R-7", RolloutAction(action="pause", plan_id=7)),
    ("Resume r-7", RolloutAction(action="resume", plan_id=7)),
    ("abort R-7", RolloutAction(action="abort", plan_id=7)),
    # rollback / cancel
    ("rollback R-7", Rollback(plan_id=7)),
    ("rollback R-7 error rate doubled", Rollback(plan_id=7, reason="error rate doubled")),
    ('rollback R-7 reason "latency"', Rollback(plan_id=7, reason="latency")),
    ("cancel R-7", Cancel(plan_id=7)),
    ("cancel R-7 superseded by R-9", Cancel(plan_id=7, reason="superseded by R-9")),
    # freezes
    (
        'freeze production reason "Black Friday"',
        Freeze(environment="production", reason="Black Friday"),
    ),
    (
        "freeze production until +3d reason 'Black Friday'",
        Freeze(environment="production", until=NOW + timedelta(days=3), reason="Black Friday"),
    ),
    (
        'freeze Production REASON "Black Friday" UNTIL 2026-11-30T08:00',
        Freeze(environment="production", until=utc(2026, 11, 30, 7), reason="Black Friday"),
    ),
    (
        "freeze production reason Black Friday weekend",
        Freeze(environment="production", reason="Black Friday weekend"),
    ),
    ("unfreeze production", Unfreeze(environment="production")),
    (
        'unlock checkout production "fix verified on staging"',
        Unlock(service="checkout", environment="production", reason="fix verified on staging"),
    ),
    (
        "Unlock checkout Production fix verified",
        Unlock(service="checkout", environment="production", reason="fix verified"),
    ),
    (
        'unlock checkout production reason "fix verified"',
        Unlock(service="checkout", environment="production", reason="fix verified"),
    ),
    ("freezes", Freezes()),
    # checklist and read-only views
    ("tick R-2 QA sign-off", Tick(plan_id=2, item="QA sign-off")),
    ('tick R-2 "UAT passed"', Tick(plan_id=2, item="UAT passed")),
    ("checks R-2", Checks(plan_id=2)),
    ("notes R-2", Notes(plan_id=2)),
    ("audit R-2", Audit(plan_id=2)),
    ("history checkout", History(service="checkout")),
    ("history Checkout Production", History(service="checkout", environment="production")),
    # what Slack actually sends: escaped text, mentions, links, odd spaces
    ("approve R-5 cc <@U123ABC|bob>", Approve(plan_id=5, comment="cc <@U123ABC>")),
    ("approve R-5 see <#C0RELEASES|releases>", Approve(plan_id=5, comment="see <#C0RELEASES>")),
    ("approve R-5 ok <!here>", Approve(plan_id=5, comment="ok @here")),
    (
        "approve R-5 see <https://ci.example/1>",
        Approve(plan_id=5, comment="see https://ci.example/1"),
    ),
    (
        "approve R-5 see <http://ci.example|ci.example>",
        Approve(plan_id=5, comment="see ci.example"),
    ),
    (
        "approve R-5 see <https://ci.example/1|the run>",
        Approve(plan_id=5, comment="see the run (https://ci.example/1)"),
    ),
    ("approve R-5 a &amp; b &lt;c&gt;", Approve(plan_id=5, comment="a & b <c>")),
    ("approve R-5 &amp;lt; is literal", Approve(plan_id=5, comment="&lt; is literal")),
    ("show\u00a0R-12", Show(plan_id=12)),
    ("show\u200bR-12", Show(plan_id=12)),
    ("  show   R-12  ", Show(plan_id=12)),
    ("approve R-5 line one\nline two", Approve(plan_id=5, comment="line one\nline two")),
    ("approve R-5 null\x00byte", Approve(plan_id=5, comment="nullbyte")),
    ("approve R-5 🚀 déploiement ✅", Approve(plan_id=5, comment="🚀 déploiement ✅")),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[row[0][:60] for row in ACCEPTED])
def test_accepted_forms(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_returned_times_are_aware() -> None:
    command = parse(f"{PLAN} at 2026-11-24T15:00 until +30d")
    assert isinstance(command, Plan)
    assert command.start is not None and command.start.utcoffset() is not None
    assert command.end is not None and command.end.utcoffset() is not None


PLAN_OPTIONS = "`at`, `until`, `strategy`, `after` or `notes`"
EDIT_KINDS = "`window`, `version`, `notes`, `risk` or `after`"

MISTAKES: list[tuple[str, str, str | None]] = [
    # (text, the exact message, whose usage is shown)
    ("deplyo R-1", "unknown sub-command 'deplyo'; did you mean `deploy`?", None),
    ("Rolback R-1", "unknown sub-command 'Rolback'; did you mean `rollback`?", None),
    ("frobnicate", "unknown sub-command 'frobnicate'", None),
    ("R-12", "unknown sub-command 'R-12'; start with what to do, like `/release show R-12`", None),
    ("help deplyo", "unknown sub-command 'deplyo'; did you mean `deploy`?", None),
    ("help plan now", "unexpected 'now'", "help"),
    ("new checkout", "unexpected 'checkout'; `new` takes no arguments, it opens a form", "new"),
    # plan
    ("plan", "missing the service name", "plan"),
    ("plan checkout", "missing the version", "plan"),
    ("plan checkout to production", "missing the version", "plan"),
    ("plan checkout v1.4.2", "expected `to <env>` after the version", "plan"),
    (
        "plan checkout v1.4.2 production",
        "expected `to <env>` after the version, got 'production'",
        "plan",
    ),
    ("plan checkout v1.4.2 to", "missing the environment name", "plan"),
    ("plan checkout v1.4.2 to at +1h", "missing the environment name", "plan"),
    (
        "plan Check-Out! v1 to prod",
        "'Check-Out!' is not a valid service name: use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
        "plan",
    ),
    (
        "plan checkout v1 to pröd",
        "'pröd' is not a valid environment name: use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
        "plan",
    ),
    (
        "plan checkout '1.2 beta' to prod",
        f"'1.2 beta' is not a valid version: {VERSION_RULE}",
        "plan",
    ),
    (f"{PLAN} at +1h at +2h", "`at` is given twice; give each option once", "plan"),
    (f'{PLAN} notes "a" NOTES "b"', "`notes` is given twice; give each option once", "plan"),
    (f"{PLAN} soon", f"unexpected 'soon'; expected {PLAN_OPTIONS}", "plan"),
    (
        f"{PLAN} at +1h please",
        "unexpected 'please'; expected `until`, `strategy`, `after` or `notes`",
        "plan",
    ),
    (f"{PLAN} at", "missing the time after `at`", "plan"),
    (f"{PLAN} strategy", "missing the strategy name", "plan"),
    (
        f"{PLAN} at tomorrow",
        "'tomorrow' is not a time: use 2026-11-24T15:00, 2026-11-24T15:00Z, now, "
        "or from now like +30m, +2h, +1d",
        "plan",
    ),
    (
        f"{PLAN} at 2026-11-24",
        "'2026-11-24' has no time of day: write it like 2026-11-24T15:00",
        "plan",
    ),
    (f"{PLAN} at 2026-02-30T10:00", "'2026-02-30T10:00' is not a valid date and time", "plan"),
    (f"{PLAN} at 2026-11-24T25:00", "'2026-11-24T25:00' is not a valid date and time", "plan"),
    (
        f"{PLAN} at 2026-11-24T15:00+25:00",
        "'2026-11-24T15:00+25:00' has an impossible UTC offset +25:00",
        "plan",
    ),
    (f"{PLAN} at 9999-12-31T23:00-05:00", "'9999-12-31T23:00-05:00' is out of range", "plan"),
    (f"{PLAN} at -30m", "'-30m' is in the past: relative times count forward, +30m", "plan"),
    (
        f"{PLAN} at +5x",
        "'+5x' is not a relative time: write it like +30m, +2h, +1d or +1h30m",
        "plan",
    ),
    (f"{PLAN} at +", "'+' is not a relative time: write it like +30m, +2h, +1d or +1h30m", "plan"),
    (f"{PLAN} at +99999999999999999d", "'+99999999999999999d' is too far in the future", "plan"),
    (
        f"{PLAN} at +2h until +1h",
        "the window ends before it starts: `until` must be after the start",
        "plan",
    ),
    (
        f"{PLAN} until +1h at +2h",
        "the window ends before it starts: `until` must be after the start",
        "plan",
    ),
    (
        f"{PLAN} at +1h until +1h",
        "the window ends before it starts: `until` must be after the start",
        "plan",
    ),
    (f"{PLAN} after", "missing the plan id after `after`, like R-11", "plan"),
    (f"{PLAN} after R12", "expected a plan id like R-12, got 'R12'", "plan"),
    (f"{PLAN} after R-3 12", "expected a plan id like R-12, got '12'", "plan"),
    (f"{PLAN} after #3", "expected a plan id like R-12, got '#3'", "plan"),
    (f"{PLAN} notes", "missing the notes", "plan"),
    (
        f"{PLAN} notes wait for R-3 after R-3",
        "quote the notes when options follow it: `after R-3` would be read as part of the notes",
        "plan",
    ),
    (
        f"{PLAN} notes go at 2026-11-24 15:00",
        "quote the notes when options follow it: "
        "`at 2026-11-24` would be read as part of the notes",
        "plan",
    ),
    (
        f'{PLAN} notes "deploy after lunch',
        "unterminated quote: the \" before 'deploy after lunch' is never closed",
        "plan",
    ),
    (
        f"{PLAN} notes “deploy after lunch",
        "unterminated quote: the “ before 'deploy after lunch' is never closed",
        "plan",
    ),
    ('plan checkout "', 'unterminated quote: the " at the end is never closed', "plan"),
    ('"plan checkout', "unterminated quote: the \" before 'plan checkout' is never closed", None),
    # plan ids
    ("show", "missing the plan id, like R-12", "show"),
    ("show R12", "expected a plan id like R-12, got 'R12'", "show"),
    ("show 12", "expected a plan id like R-12, got '12'", "show"),
    ("show #12", "expected a plan id like R-12, got '#12'", "show"),
    ("show R-", "expected a plan id like R-12, got 'R-'", "show"),
    ("show R-0", "expected a plan id like R-12, got 'R-0'", "show"),
    ("show checkout", "expected a plan id like R-12, got 'checkout'", "show"),
    ("show R-99999999999", "plan id 'R-99999999999' is out of range", "show"),
    ("show R-12 now", "unexpected 'now'", "show"),
    ("checks R-12 R-13", "unexpected 'R-13'", "checks"),
    # edit
    ("edit R-3", f"say what to change: {EDIT_KINDS}", "edit"),
    ("edit R-3 colour blue", f"unexpected 'colour'; expected {EDIT_KINDS}", "edit"),
    (
        "edit R-3 version v2 notes x",
        "change one thing per command: `version` and `notes` are both given",
        "edit",
    ),
    (
        'edit R-3 risk "x" window +1h',
        "change one thing per command: `risk` and `window` are both given",
        "edit",
    ),
    ("edit R-3 until +1h", "`until` goes after the start: window <time> until <time>", "edit"),
    ("edit R-3 window", "missing the time after `window`", "edit"),
    (
        "edit R-3 window +2h until +1h",
        "the window ends before it starts: `until` must be after the start",
        "edit",
    ),
    ("edit R-3 version", "missing the version", "edit"),
    ("edit R-3 after", "missing the plan id after `after`, like R-11, or `none`", "edit"),
    ("edit R-3 after R2", "expected a plan id like R-12, got 'R2'", "edit"),
    ("edit R-3 after none R-2", "unexpected 'R-2'; `after none` takes no plan ids", "edit"),
    ("edit R-3 after R-2 none", "unexpected 'none'", "edit"),
    (
        "edit R-3 after R-2 version v2",
        "change one thing per command: `after` and `version` are both given",
        "edit",
    ),
    ("edit R3 version v2", "expected a plan id like R-12, got 'R3'", "edit"),
    # approvals, deploys, rollouts
    ("approve", "missing the plan id, like R-12", "approve"),
    ("reject R-5", "a reason is required: /release reject R-<n> <reason>", "reject"),
    ('reject R-5 ""', "a reason is required: /release reject R-<n> <reason>", "reject"),
    ("deploy R-7 --override", '`--override` needs a reason: --override "<reason>"', "deploy"),
    ('deploy R-7 --override ""', '`--override` needs a reason: --override "<reason>"', "deploy"),
    ("deploy R-7 now", "unexpected 'now'; expected `--override`", "deploy"),
    (
        'deploy R-7 --override "a" --override "b"',
        "`--override` is given twice; give each option once",
        "deploy",
    ),
    ("pause", "missing the plan id, like R-12", "pause"),
    ("abort R-7 now", "unexpected 'now'", "abort"),
    ("rollback R7", "expected a plan id like R-12, got 'R7'", "rollback"),
    # freezes
    ("freeze", "missing the environment name", "freeze"),
    ("freeze production", 'a reason is required: reason "<text>"', "freeze"),
    ("freeze production until +1d", 'a reason is required: reason "<text>"', "freeze"),
    ("freeze production reason", 'a reason is required: reason "<text>"', "freeze"),
    (
        "freeze production until +1d until +2d reason x",
        "`until` is given twice; give each option once",
        "freeze",
    ),
    (
        "freeze production reason Black Friday until +3d",
        "quote the reason when options follow it: `until +3d` would be read as part of the reason",
        "freeze",
    ),
    ("freeze production for a day", "unexpected 'for'; expected `until` or `reason`", "freeze"),
    ("unfreeze", "missing the environment name", "unfreeze"),
    ("unfreeze production now", "unexpected 'now'", "unfreeze"),
    ("unlock", "missing the service name", "unlock"),
    ("unlock checkout", "missing the environment name", "unlock"),
    (
        "unlock checkout production",
        'a reason is required: /release unlock <service> <env> "<reason>"',
        "unlock",
    ),
    ("freezes production", "unexpected 'production'; `freezes` takes no arguments", "freezes"),
    # the rest
    ("tick R-2", "missing the checklist item: /release tick R-<n> <item>", "tick"),
    (
        "list production staging",
        "unexpected 'staging'; expected one environment and `--all`",
        "list",
    ),
    ("list --all --all", "`--all` is given twice; give each option once", "list"),
    ("history", "missing the service name", "history"),
    ("history checkout production eu", "unexpected 'eu'", "history"),
]


@pytest.mark.parametrize(
    ("text", "message", "subcommand"), MISTAKES, ids=[row[0][:60] for row in MISTAKES]
)
def test_mistakes_say_what_is_wrong_and_show_the_usage(
    text: str, message: str, subcommand: str | None
) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.message == message
    assert caught.value.subcommand == subcommand
    assert caught.value.usage == usage_for(subcommand)


def test_usage_error_is_a_domain_error_with_the_message_as_its_text() -> None:
    with pytest.raises(ReleasebotError) as caught:
        parse("show R12")
    assert str(caught.value) == "expected a plan id like R-12, got 'R12'"


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_every_subcommand_has_help_and_a_usage_text(subcommand: str) -> None:
    assert parse(f"help {subcommand}") == Help(topic=subcommand)
    usage = usage_for(subcommand)
    assert usage.startswith(f"`/release {subcommand}")
    assert re.search(rf"\b{subcommand}\b", usage_for(None))


def test_the_overview_is_shown_for_help_and_unknown_sub_commands() -> None:
    with pytest.raises(UsageError) as caught:
        parse("deplyo R-1")
    assert caught.value.usage == usage_for(None)
    assert "`/release plan <service> <version> to <env>" in caught.value.usage


def test_usage_for_an_unknown_sub_command_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="deplyo"):
        usage_for("deplyo")


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_command("show R-1", now=datetime(2026, 11, 20, 12), tz=BERLIN)


# --- limits -------------------------------------------------------------------------------


def test_free_text_up_to_the_limit_is_accepted() -> None:
    text = "x" * 2000
    assert parse(f'{PLAN} notes "{text}"') == plan(notes=text)
    assert parse(f"tick R-1 {'é' * 2000}") == Tick(plan_id=1, item="é" * 2000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'{PLAN} notes "{"x" * 2001}"', "notes too long: 2,001 characters (the limit is 2,000)"),
        (f"edit R-1 risk {'x' * 2001}", "risk too long: 2,001 characters (the limit is 2,000)"),
        (f"approve R-1 {'x' * 5000}", "comment too long: 5,000 characters (the limit is 2,000)"),
        (f"reject R-1 {'x' * 5000}", "reason too long: 5,000 characters (the limit is 2,000)"),
        (
            f"deploy R-1 --override {'x' * 5000}",
            "override reason too long: 5,000 characters (the limit is 2,000)",
        ),
        (
            f"tick R-1 {'x' * 5000}",
            "checklist item too long: 5,000 characters (the limit is 2,000)",
        ),
        (f"plan {'a' * 64} v1 to prod", "service name too long: 64 characters (the limit is 63)"),
        (
            f"plan checkout {'1' * 129} to prod",
            "version too long: 129 characters (the limit is 128)",
        ),
        (
            f"history checkout {'p' * 5000}",
            "environment name too long: 5,000 characters (the limit is 63)",
        ),
        (
            "approve R-1 " + "x" * INPUT_LIMIT,
            f"the command is too long: {INPUT_LIMIT + 12:,} characters "
            f"(the limit is {INPUT_LIMIT:,})",
        ),
    ],
    ids=lambda value: value[:30] if isinstance(value, str) else value,
)
def test_over_long_arguments_name_the_field_and_the_limit(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.message == message


def test_names_and_versions_at_their_limits_are_accepted() -> None:
    assert parse(f"history {'a' * 63}") == History(service="a" * 63)
    assert parse(f"plan checkout {'1' * 128} to prod") == plan(
        version="1" * 128, environment="prod"
    )


@pytest.mark.parametrize(
    "text",
    [
        '"' * (INPUT_LIMIT - 1),
        '" ' * (INPUT_LIMIT // 2 - 1),
        "<" * INPUT_LIMIT,
        "<a" * (INPUT_LIMIT // 2),
        "&amp;" * (INPUT_LIMIT // 5),
        "plan " + "after R-1 " * (INPUT_LIMIT // 10 - 1),
        f"{PLAN} after " + "R-1," * (INPUT_LIMIT // 4 - 10),
        "approve R-1 " + "it's " * (INPUT_LIMIT // 5 - 3),
    ],
    ids=["quotes", "spaced-quotes", "angles", "open-angles", "entities", "repeats", "ids", "words"],
)
def test_pathological_input_is_answered_quickly(text: str) -> None:
    # This thread's CPU time, not the wall clock: four test workers on two cores stretched a
    # 24 ms parse past a second of wall time while the grammar did nothing wrong.
    started = time.thread_time()
    with contextlib.suppress(UsageError):
        parse(text)
    # Generous bound: the grammar is linear, this guards against accidental backtracking.
    assert time.thread_time() - started < 1.0


# --- times and time zones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # Europe/Berlin, spring forward 2026-03-29: 02:00 CET -> 03:00 CEST
        ("2026-03-29T01:30", utc(2026, 3, 29, 0, 30)),
        ("2026-03-29T03:30", utc(2026, 3, 29, 1, 30)),
        # fall back 2026-10-25: 03:00 CEST -> 02:00 CET
        ("2026-10-25T01:30", utc(2026, 10, 24, 23, 30)),
        ("2026-10-25T03:30", utc(2026, 10, 25, 2, 30)),
        # 02:30 happens twice that night: the first (summer time) one is taken
        ("2026-10-25T02:30", utc(2026, 10, 25, 0, 30)),
        # an explicit offset wins over the team zone, even inside the local gap
        ("2026-03-29T02:30+01:00", utc(2026, 3, 29, 1, 30)),
        ("2026-03-29T02:30Z", utc(2026, 3, 29, 2, 30)),
        ("2026-03-29T02:30:15.5Z", datetime(2026, 3, 29, 2, 30, 15, 500000, tzinfo=UTC)),
        ("2026-03-29t02:30z", utc(2026, 3, 29, 2, 30)),
        ("2026-03-29T02:30+0100", utc(2026, 3, 29, 1, 30)),
    ],
)
def test_local_times_follow_daylight_saving_time(written: str, expected: datetime) -> None:
    command = parse(f"{PLAN} at {written}")
    assert isinstance(command, Plan)
    assert command.start == expected


@pytest.mark.parametrize(
    ("written", "zone"),
    [("2026-03-29T02:30", "Europe/Berlin"), ("2026-03-08T02:15", "America/New_York")],
)
def test_a_time_in_the_spring_forward_gap_is_refused(written: str, zone: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(f"{PLAN} at {written}", tz=ZoneInfo(zone))
    assert caught.value.message == (
        f"'{written}' does not exist in {zone}: the clocks skip that time when daylight saving "
        "time starts; pick a time outside the gap"
    )
    assert caught.value.subcommand == "plan"


def test_the_gap_is_refused_for_freezes_and_edits_too() -> None:
    for text in (
        "freeze production until 2026-03-29T02:00 reason x",
        "edit R-1 window 2026-03-29T02:59",
    ):
        with pytest.raises(UsageError, match="does not exist in Europe/Berlin"):
            parse(text)


def test_relative_times_are_elapsed_time_across_a_dst_change() -> None:
    saturday_noon = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # 11:00 UTC
    command = parse(f"{PLAN} at +1d until +1d2h", now=saturday_noon)
    assert command == plan(start=utc(2026, 3, 29, 11), end=utc(2026, 3, 29, 13))


def test_the_same_text_means_a_different_instant_in_another_team_zone() -> None:
    tokyo = parse(f"{PLAN} at 2026-11-24T15:00", tz=ZoneInfo("Asia/Tokyo"))
    utc_team = parse(f"{PLAN} at 2026-11-24T15:00", tz=ZoneInfo("UTC"))
    assert tokyo == plan(start=utc(2026, 11, 24, 6))
    assert utc_team == plan(start=utc(2026, 11, 24, 15))


# --- fuzzing: any text gets a Command or a UsageError, never a crash ----------------------


def parses_or_explains(text: str) -> Command | UsageError:
    try:
        return parse(text)
    except UsageError as error:
        assert error.message
        assert error.usage == usage_for(error.subcommand)
        return error


@FUZZ
@given(st.text())
def test_any_text_parses_or_explains(text: str) -> None:
    parses_or_explains(text)


WORDS = [
    *SUBCOMMANDS,
    "to",
    "at",
    "until",
    "strategy",
    "after",
    "notes",
    "reason",
    "window",
    "version",
    "risk",
    "--all",
    "--override",
    "\u2014all",
    "R-1",
    "r-2",
    "R12",
    "#3",
    "R-1,R-2",
    ",",
    "now",
    "+30m",
    "+1h30m",
    "-5m",
    "+",
    "2026-11-24",
    "15:00",
    "2026-03-29T02:30",
    "2026-11-24T15:00Z",
    "checkout",
    "production",
    "v1.2.3+build.4",
    '"',
    "'",
    "“",
    "”",
    "\u2018",
    "\u2019",
    '"quoted text"',
    "it's",
    "\\",
    "<@U123|bob>",
    "<!here>",
    "&amp;",
    "&lt;",
    "<",
    ">",
]


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=12))
def test_any_sequence_of_grammar_words_parses_or_explains(words: list[str]) -> None:
    parses_or_explains(" ".join(words))


VALID_TEXTS = [text for text, _ in ACCEPTED]


@FUZZ
@given(st.data())
def test_mutated_valid_commands_parse_or_explain(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(VALID_TEXTS))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["insert", "delete", "replace", "swap", "cut", "repeat"]))
        if kind == "insert":
            text = text[:position] + data.draw(st.text(min_size=1, max_size=3)) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + 1 :]
        elif kind == "replace":
            text = text[:position] + data.draw(st.characters()) + text[position + 1 :]
        elif kind == "swap":
            words = text.split(" ")
            i = data.draw(st.integers(0, len(words) - 1))
            j = data.draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
            text = " ".join(words)
        elif kind == "cut":
            text = text[:position]
        else:
            text = text[:position] + " " + text[:position]
    parses_or_explains(text)


# Characters that survive as they are: no spaces, controls, quotes or Slack markup, so the
# argument reaches the field checks with its length intact.
LONG_TEXT_CHARACTERS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
    blacklist_characters="\"'“”\u2018\u2019„<>&\\\u200b\u2060\ufeff\x1c\x1d\x1e\x1f\x85",
)

LONG_ARGUMENT_FORMS = [
    ("approve R-1 {}", "comment"),
    ("reject R-1 {}", "reason"),
    ("rollback R-1 {}", "reason"),
    ("cancel R-1 {}", "reason"),
    ("tick R-1 {}", "checklist item"),
    ("deploy R-1 --override {}", "override reason"),
    ('deploy R-1 --override "{}"', "override reason"),
    (f"{PLAN} notes {{}}", "notes"),
    (f'{PLAN} notes "{{}}"', "notes"),
    ("edit R-1 notes {}", "notes"),
    ('edit R-1 risk "{}"', "risk"),
    ('freeze production reason "{}" until +1d', "reason"),
    ("plan {} v1 to prod", "service name"),
    ("plan checkout {} to prod", "version"),
    ("plan checkout v1 to {}", "environment name"),
    ("history checkout {}", "environment name"),
    (f"{PLAN} strategy {{}}", "strategy name"),
]


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.sampled_from(LONG_ARGUMENT_FORMS),
    st.text(LONG_TEXT_CHARACTERS, min_size=1, max_size=10),
    st.integers(5000, 6000),
)
def test_a_5000_character_argument_gets_a_message_about_the_limit(
    form: tuple[str, str], seed: str, length: int
) -> None:
    template, field = form
    argument = (seed * (length // len(seed) + 1))[:length]
    with pytest.raises(UsageError) as caught:
        parse(template.format(argument))
    assert caught.value.message.startswith(f"{field} too long: ")
    assert "(the limit is " in caught.value.message
