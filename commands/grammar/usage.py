"""Usage texts shown in Slack: one per sub-command and an overview (mrkdwn with backticks)."""

from __future__ import annotations

SUBCOMMANDS: tuple[str, ...] = (
    "help",
    "new",
    "plan",
    "list",
    "show",
    "edit",
    "approve",
    "reject",
    "deploy",
    "promote",
    "pause",
    "resume",
    "abort",
    "rollback",
    "cancel",
    "freeze",
    "unfreeze",
    "unlock",
    "freezes",
    "tick",
    "checks",
    "notes",
    "audit",
    "history",
)

_TIMES = (
    "Times: `2026-11-24T15:00` (team time zone) or with an offset (`2026-11-24T15:00Z`, "
    '`2026-11-24T15:00+01:00`, `"2026-11-24 15:00"`), `now`, or from now: '
    "`+30m`, `+2h`, `+1d`, `+1h30m`."
)

_USAGES: dict[str, str] = {
    "help": (
        "`/release help [sub-command]`\n"
        "Lists every sub-command, or explains one.\n"
        "Example: `/release help plan`"
    ),
    "new": "`/release new`\nOpens a form with every plan field.",
    "plan": (
        "`/release plan <service> <version> to <env> [at <time>] [until <time>] "
        '[strategy <name>] [after R-<n> …] [notes "<text>"]`\n'
        "Plans a release of a version (tag, sha, artifact version) of a service to an "
        "environment. Options may come in any order, each once.\n"
        "Example: `/release plan checkout v1.4.2 to production at 2026-11-24T15:00 until +2h "
        'strategy canary after R-11 notes "needs the new schema"`\n' + _TIMES
    ),
    "list": (
        "`/release list [<env>] [--all]`\n"
        "Upcoming and active plans, optionally for one environment; `--all` adds history.\n"
        "Example: `/release list production --all`"
    ),
    "show": (
        "`/release show R-<n>`\nShows the plan's card, only to you.\nExample: `/release show R-12`"
    ),
    "edit": (
        "`/release edit R-<n> window <time> [until <time>]`\n"
        "`/release edit R-<n> version <version>`\n"
        '`/release edit R-<n> notes "<text>"`\n'
        '`/release edit R-<n> risk "<text>"`\n'
        "`/release edit R-<n> after (R-<k> … | none)`\n"
        "Changes one thing per command. Changing the window or version of an approved plan "
        "asks for approval again; a new version also re-opens the sign-offs of the old one. "
        "`after` changes which plans must be released first (`none`: no dependency); "
        "approvals still count.\n"
        "Example: `/release edit R-12 window 2026-11-25T09:00 until +2h` or "
        "`/release edit R-12 after none`\n" + _TIMES
    ),
    "approve": (
        "`/release approve R-<n> [comment]`\n"
        "Approves the plan.\n"
        "Example: `/release approve R-12 looks good, schema reviewed`"
    ),
    "reject": (
        "`/release reject R-<n> <reason>`\n"
        "Rejects the plan; the reason is required and shown to the requester.\n"
        "Example: `/release reject R-12 migration not reviewed yet`"
    ),
    "deploy": (
        '`/release deploy R-<n> [--override "<reason>"]`\n'
        "Starts the rollout now. `--override` breaks through a freeze (admins only, audited "
        "and announced).\n"
        'Example: `/release deploy R-12` or `/release deploy R-12 --override "hotfix for '
        'the payment outage"`'
    ),
    "promote": (
        "`/release promote R-<n>`\n"
        "Moves a rollout waiting at a manual gate to its next stage.\n"
        "Example: `/release promote R-12`"
    ),
    "pause": ("`/release pause R-<n>`\nPauses a running rollout.\nExample: `/release pause R-12`"),
    "resume": (
        "`/release resume R-<n>`\nResumes a paused rollout.\nExample: `/release resume R-12`"
    ),
    "abort": (
        "`/release abort R-<n>`\n"
        "Stops the rollout and rolls back to the previous version.\n"
        "Example: `/release abort R-12`"
    ),
    "rollback": (
        "`/release rollback R-<n> [reason]`\n"
        "Rolls a released plan back to the previous released version.\n"
        "Example: `/release rollback R-12 error rate doubled`"
    ),
    "cancel": (
        "`/release cancel R-<n> [reason]`\n"
        "Cancels a plan that has not started.\n"
        "Example: `/release cancel R-12 superseded by R-14`"
    ),
    "freeze": (
        '`/release freeze <env> [until <time>] reason "<text>"`\n'
        "Stops deploys to an environment until the time given or until `unfreeze`.\n"
        'Example: `/release freeze production until +3d reason "Black Friday"`\n' + _TIMES
    ),
    "unfreeze": (
        "`/release unfreeze <env>`\n"
        "Ends an ad-hoc freeze of an environment (not a rollback lock: see `unlock`).\n"
        "Example: `/release unfreeze production`"
    ),
    "unlock": (
        '`/release unlock <service> <env> "<reason>"`\n'
        "Lifts the lock a rollback leaves on a service in an environment (admins only; audited "
        "and announced). A new plan of another version lifts it too, once it is approved.\n"
        'Example: `/release unlock checkout production "fix verified on staging"`'
    ),
    "freezes": "`/release freezes`\nLists active and upcoming freezes.",
    "tick": (
        "`/release tick R-<n> <item>`\n"
        "Ticks a checklist item of the plan.\n"
        "Example: `/release tick R-12 QA sign-off`"
    ),
    "checks": (
        "`/release checks R-<n>`\n"
        "Shows the plan's verification checks and every measurement.\n"
        "Example: `/release checks R-12`"
    ),
    "notes": (
        "`/release notes R-<n>`\n"
        "Shows the release notes: changelog, notes and known issues.\n"
        "Example: `/release notes R-12`"
    ),
    "audit": (
        "`/release audit R-<n>`\n"
        "Shows every recorded event of the plan.\n"
        "Example: `/release audit R-12`"
    ),
    "history": (
        "`/release history <service> [<env>]`\n"
        "Past releases of a service, optionally in one environment.\n"
        "Example: `/release history checkout production`"
    ),
}

_OVERVIEW = "\n".join(
    [
        "*`/release` sub-commands*",
        "`/release new` — open a form to plan a release",
        "`/release plan <service> <version> to <env> [at <time>] [until <time>] "
        '[strategy <name>] [after R-<n>] [notes "<text>"]`',
        "`/release list [<env>] [--all]`   `/release show R-<n>`",
        "`/release edit R-<n> (window <time> [until <time>] | version <v> | "
        'notes "<text>" | risk "<text>" | after R-<k>|none)`',
        "`/release approve R-<n> [comment]`   `/release reject R-<n> <reason>`",
        '`/release deploy R-<n> [--override "<reason>"]`',
        "`/release promote|pause|resume|abort R-<n>`",
        "`/release rollback R-<n> [reason]`   `/release cancel R-<n> [reason]`",
        '`/release freeze <env> [until <time>] reason "<text>"`   '
        "`/release unfreeze <env>`   `/release freezes`",
        '`/release unlock <service> <env> "<reason>"`',
        "`/release tick R-<n> <item>`",
        "`/release checks R-<n>`   `/release notes R-<n>`   `/release audit R-<n>`",
        "`/release history <service> [<env>]`",
        _TIMES,
        "`/release help <sub-command>` explains one with an example.",
    ]
)


def usage_for(subcommand: str | None) -> str:
    """The usage text of one sub-command; None gives the overview of all of them."""
    if subcommand is None:
        return _OVERVIEW
    try:
        return _USAGES[subcommand.lower()]
    except KeyError:
        raise ValueError(f"no usage text for unknown sub-command {subcommand!r}") from None
