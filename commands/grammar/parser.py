"""The `/release` grammar: text -> a typed command, or a UsageError.

`Grammar` is built from the declared sub-commands (`commands/registry.py`); the `parse_*`
functions here read the arguments of the sub-commands declared with the grammar's own types.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from . import values
from .arguments import Arguments, keyword
from .errors import ArgumentError, UnknownWord, UsageError, shown
from .model import (
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
    RolloutVerb,
    Show,
    Tick,
    Unfreeze,
    Unlock,
)
from .tokens import Token, UnterminatedQuote, clean, tokenize, unescape_slack
from .usage import overview

# Far above any valid command (a 2,000-character note escaped by Slack is ~10,000), low
# enough that nothing downstream ever sees megabytes.
INPUT_LIMIT = 40_000

_HELP_WORDS = frozenset({"help", "--help", "-h", "?"})
_PLAN_OPTIONS = ("at", "until", "strategy", "after", "notes")
_FREEZE_OPTIONS = ("until", "reason")
_EDIT_KINDS = ("window", "version", "notes", "risk", "after")
_EITHER_KIND = "`window`, `version`, `notes`, `risk` or `after`"
_PlanView = TypeVar("_PlanView", Show, Checks, Notes, Audit)


class Syntax(Protocol):
    """What the grammar needs of one declared sub-command (see `commands/registry.py`)."""

    @property
    def name(self) -> str: ...

    @property
    def parse(self) -> Callable[[Arguments], Command]: ...

    @property
    def usage(self) -> str: ...

    @property
    def synopsis(self) -> str | None: ...

    @property
    def listed(self) -> tuple[int, int] | None: ...


class Grammar:
    """Parses `/release` text with the sub-commands it is given and knows their usage texts."""

    def __init__(self, syntaxes: Iterable[Syntax]) -> None:
        self._syntaxes: dict[str, Syntax] = {}
        for syntax in syntaxes:
            if syntax.name in self._syntaxes:
                raise ValueError(f"sub-command {syntax.name!r} is declared twice")
            self._syntaxes[syntax.name] = syntax
        self.names: tuple[str, ...] = tuple(self._syntaxes)
        self.overview = overview(self._syntaxes.values())

    def usage_for(self, subcommand: str | None) -> str:
        """The usage text of one sub-command; None gives the overview of all of them."""
        if subcommand is None:
            return self.overview
        try:
            return self._syntaxes[subcommand.lower()].usage
        except KeyError:
            raise ValueError(f"no usage text for unknown sub-command {subcommand!r}") from None

    def parse(self, text: str, *, now: datetime, tz: ZoneInfo) -> Command:
        """Parse the text after `/release`; raise UsageError saying what is wrong.

        `now` must be timezone-aware (relative times count from it); `tz` is the team time
        zone for times written without an offset. Returned datetimes are aware, in UTC.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("parse_command needs a timezone-aware `now`")
        if len(text) > INPUT_LIMIT:
            raise self._error(
                f"the command is too long: {len(text):,} characters (the limit is {INPUT_LIMIT:,})"
            )
        cleaned = clean(unescape_slack(text))
        try:
            tokens = tokenize(cleaned)
        except UnterminatedQuote as error:
            raise self._error(
                _unterminated(cleaned, error), self._known_subcommand(error.before)
            ) from None
        if not tokens:
            return Help()
        subcommand = self._subcommand(tokens[0])
        known = frozenset(self._syntaxes)
        args = Arguments(cleaned, tokens[1:], now=now, tz=tz, subcommands=known)
        if args.remaining() == 1 and args.peek_keyword() in _HELP_WORDS and subcommand != "help":
            return Help(topic=subcommand)
        try:
            return self._syntaxes[subcommand].parse(args)
        except ArgumentError as error:
            raise self._error(error.message, subcommand) from None
        except UnknownWord as error:
            raise self._error(self._unknown(error.token), None) from None

    def _error(self, message: str, subcommand: str | None = None) -> UsageError:
        return UsageError(message, subcommand, self.usage_for(subcommand))

    def _known_subcommand(self, tokens: list[Token]) -> str | None:
        if not tokens:
            return None
        word = _spelled(tokens[0])
        if word in _HELP_WORDS:
            return "help"
        return word if word in self._syntaxes else None

    def _subcommand(self, token: Token) -> str:
        word = _spelled(token)
        if word in _HELP_WORDS:
            return "help"
        if word in self._syntaxes:
            return word
        raise self._error(self._unknown(token), None)

    def _unknown(self, token: Token) -> str:
        message = f"unknown sub-command {shown(token.value)}"
        word = _spelled(token)[:40]
        if values.looks_like_plan_id(word):
            return f"{message}; start with what to do, like `/release show {token.value}`"
        matches = difflib.get_close_matches(word, self._syntaxes, n=1)
        return f"{message}; did you mean `{matches[0]}`?" if matches else message


def _unterminated(text: str, error: UnterminatedQuote) -> str:
    after = text[error.position + 1 :].strip()
    where = f"before {shown(after)}" if after else "at the end"
    return f"unterminated quote: the {error.quote} {where} is never closed"


def _spelled(token: Token) -> str:
    return keyword(token) or values.normal(token.value).lower()


def parse_help(args: Arguments) -> Help:
    token = args.peek()
    if token is None:
        return Help()
    args.skip()
    args.end()
    topic = _spelled(token)
    if topic in _HELP_WORDS:
        return Help(topic="help")
    if topic not in args.subcommands:
        raise UnknownWord(token)
    return Help(topic=topic)


def parse_new(args: Arguments) -> New:
    args.end("; `new` takes no arguments, it opens a form")
    return New()


def parse_plan(args: Arguments) -> Plan:
    service = args.name("service", stop=frozenset({"to"}))
    version = args.version(stop=frozenset({"to"}))
    if args.peek_keyword() != "to":
        token = args.peek()
        got = f", got {shown(token.value)}" if token else ""
        raise ArgumentError(f"expected `to <env>` after the version{got}")
    args.skip()
    environment = args.name("environment", stop=frozenset(_PLAN_OPTIONS))
    start: datetime | None = None
    end: datetime | None = None
    strategy: str | None = None
    after: tuple[int, ...] = ()
    notes: str | None = None
    seen: set[str] = set()
    while (option := args.option(_PLAN_OPTIONS, seen)) is not None:
        if option == "at":
            start = args.time("at")
        elif option == "until":
            end = args.time("until")
        elif option == "strategy":
            strategy = args.strategy()
        elif option == "after":
            after = args.plan_ids()
        else:
            notes = args.text("notes", options=_unseen(_PLAN_OPTIONS, seen))
    _check_window(start, end)
    return Plan(
        service=service,
        version=version,
        environment=environment,
        start=start,
        end=end,
        strategy=strategy,
        after=after,
        notes=notes,
    )


def _unseen(options: tuple[str, ...], seen: set[str]) -> tuple[str, ...]:
    return tuple(option for option in options if option not in seen)


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ArgumentError("the window ends before it starts: `until` must be after the start")


def parse_list(args: Arguments) -> ListPlans:
    environment: str | None = None
    include_all = False
    while (token := args.peek()) is not None:
        if keyword(token) == "--all":
            if include_all:
                raise ArgumentError("`--all` is given twice; give each option once")
            include_all = True
            args.skip()
        elif environment is None:
            environment = args.name("environment")
        else:
            args.end("; expected one environment and `--all`")
    return ListPlans(environment=environment, include_all=include_all)


def parse_edit(args: Arguments) -> Edit:
    plan_id = args.plan_id()
    token = args.peek()
    kind = args.peek_keyword()
    if token is None:
        raise ArgumentError(f"say what to change: {_EITHER_KIND}")
    if kind == "until":
        raise ArgumentError("`until` goes after the start: window <time> until <time>")
    if kind not in _EDIT_KINDS:
        raise ArgumentError(f"unexpected {shown(token.value)}; expected {_EITHER_KIND}")
    args.skip()
    if kind == "window":
        start = args.time("window")
        end = None
        if args.peek_keyword() == "until":
            args.skip()
            end = args.time("until")
        _check_window(start, end)
        edit = Edit(plan_id=plan_id, window_start=start, window_end=end)
    elif kind == "version":
        edit = Edit(plan_id=plan_id, version=args.version())
    elif kind == "notes":
        edit = Edit(plan_id=plan_id, notes=args.text("notes"))
    elif kind == "after":
        edit = Edit(plan_id=plan_id, after=_after_or_none(args))
    else:
        edit = Edit(plan_id=plan_id, risk=args.text("risk"))
    following = args.peek_keyword()
    if following in _EDIT_KINDS:
        raise ArgumentError(
            f"change one thing per command: `{kind}` and `{following}` are both given"
        )
    args.end()
    return edit


def _after_or_none(args: Arguments) -> tuple[int, ...]:
    """`after none` (depend on nothing) or one or more plan ids."""
    if args.peek() is None:
        raise ArgumentError("missing the plan id after `after`, like R-11, or `none`")
    if args.peek_keyword() == "none":
        args.skip()
        if args.peek() is not None and args.peek_keyword() not in _EDIT_KINDS:
            args.end("; `after none` takes no plan ids")
        return ()
    return args.plan_ids()


def parse_approve(args: Arguments) -> Approve:
    plan_id = args.plan_id()
    return Approve(plan_id=plan_id, comment=args.rest("comment") or None)


def parse_reject(args: Arguments) -> Reject:
    plan_id = args.plan_id()
    reason = _reason(args)
    if not reason:
        raise ArgumentError("a reason is required: /release reject R-<n> <reason>")
    return Reject(plan_id=plan_id, reason=reason)


def _reason(args: Arguments) -> str:
    # `reason "…"` is the freeze form; people carry it over to reject/rollback/cancel.
    second = args.peek(1)
    if args.peek_keyword() == "reason" and args.remaining() == 2 and second and second.quoted:
        args.skip()
    return args.rest("reason")


def parse_deploy(args: Arguments) -> Deploy:
    plan_id = args.plan_id()
    override: str | None = None
    seen: set[str] = set()
    while args.option(("--override",), seen) is not None:
        override = args.text("override reason") if args.peek() is not None else ""
        if not override:
            raise ArgumentError('`--override` needs a reason: --override "<reason>"')
    return Deploy(plan_id=plan_id, override_reason=override)


def _rollout(action: RolloutVerb) -> Callable[[Arguments], RolloutAction]:
    def parse(args: Arguments) -> RolloutAction:
        plan_id = args.plan_id()
        args.end()
        return RolloutAction(action=action, plan_id=plan_id)

    return parse


def parse_rollback(args: Arguments) -> Rollback:
    plan_id = args.plan_id()
    return Rollback(plan_id=plan_id, reason=_reason(args) or None)


def parse_cancel(args: Arguments) -> Cancel:
    plan_id = args.plan_id()
    return Cancel(plan_id=plan_id, reason=_reason(args) or None)


def parse_freeze(args: Arguments) -> Freeze:
    environment = args.name("environment", stop=frozenset(_FREEZE_OPTIONS))
    until: datetime | None = None
    reason = ""
    seen: set[str] = set()
    while (option := args.option(_FREEZE_OPTIONS, seen)) is not None:
        if option == "until":
            until = args.time("until")
        else:
            if args.peek() is not None:
                reason = args.text("reason", options=_unseen(_FREEZE_OPTIONS, seen))
    if not reason:
        raise ArgumentError('a reason is required: reason "<text>"')
    return Freeze(environment=environment, until=until, reason=reason)


def parse_unfreeze(args: Arguments) -> Unfreeze:
    environment = args.name("environment")
    args.end()
    return Unfreeze(environment=environment)


def parse_unlock(args: Arguments) -> Unlock:
    service = args.name("service")
    environment = args.name("environment", stop=frozenset({"reason"}))
    reason = _reason(args)
    if not reason:
        raise ArgumentError('a reason is required: /release unlock <service> <env> "<reason>"')
    return Unlock(service=service, environment=environment, reason=reason)


def parse_freezes(args: Arguments) -> Freezes:
    args.end("; `freezes` takes no arguments")
    return Freezes()


def parse_tick(args: Arguments) -> Tick:
    plan_id = args.plan_id()
    item = args.rest("checklist item")
    if not item:
        raise ArgumentError("missing the checklist item: /release tick R-<n> <item>")
    return Tick(plan_id=plan_id, item=item)


def _single_plan(make: Callable[[int], _PlanView]) -> Callable[[Arguments], _PlanView]:
    def parse(args: Arguments) -> _PlanView:
        plan_id = args.plan_id()
        args.end()
        return make(plan_id)

    return parse


def parse_history(args: Arguments) -> History:
    service = args.name("service")
    environment = args.name("environment") if args.peek() is not None else None
    args.end()
    return History(service=service, environment=environment)


parse_show = _single_plan(lambda n: Show(plan_id=n))
parse_checks = _single_plan(lambda n: Checks(plan_id=n))
parse_notes = _single_plan(lambda n: Notes(plan_id=n))
parse_audit = _single_plan(lambda n: Audit(plan_id=n))
parse_promote = _rollout("promote")
parse_pause = _rollout("pause")
parse_resume = _rollout("resume")
parse_abort = _rollout("abort")
