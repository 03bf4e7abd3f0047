"""The embedded default backend: run a local command (an argument list, never a shell).

Every start gets a state directory under `state_dir`, named after its idempotency key:

    spec.json     argv, cwd, timeout, start time (written before anything runs)
    runner.pid    the detached runner (command_runner.py), written by the runner itself
    child.pid     the command; also its process-group id
    output.log    stdout + stderr
    exit_code     written once, when the command has ended
    timed_out     present when the runner stopped the command at its timeout
    cancelled     present when releasebot asked for the command to stop

The runner survives the bot, so a restarted bot reads the same files and carries on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import BackendSettings, anchored_command
from bot.domain.config.base import raise_problems
from bot.domain.config.commands import DeployArgv
from bot.domain.config.values import EnvVarName, PositiveDuration
from bot.domain.durations import format_duration
from bot.domain.errors import BackendError, InvalidInput
from bot.domain.placeholders import (
    check_templates,
    release_environment,
    render,
    values_for,
)
from bot.domain.versions import VERSION_RULE, is_safe_version
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.command_runner import write_atomically
from integrations.deploy.registration import BackendDeps, register_backend

TAIL_LINES = 40
TAIL_CHARS = 3000
# How long a start may take to show its runner before we call it never launched.
LAUNCH_WINDOW = timedelta(seconds=30)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# What any program needs to run; never the bot's own secrets (SLACK_*, DATABASE_URL, tokens).
# Everything else the deploy command gets is the RELEASE_* variables and the service's
# `pass_env` / `env` (SPEC §9).
BASE_VARIABLES = ("PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER")


def command_environment(
    release: Mapping[str, str],
    *,
    environ: Mapping[str, str],
    pass_env: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The deploy command's whole environment: a working base, what the service lists, RELEASE_*."""
    inherited = {
        key: value
        for key, value in environ.items()
        if key in BASE_VARIABLES or key.startswith("LC_") or key in pass_env
    }
    return {**inherited, **(env or {}), **release}


def output_tail(path: Path, *, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str | None:
    """The last `lines` lines / `chars` characters of a log file, or None when it is empty."""
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - 64 * 1024))
            data = log.read()
    except FileNotFoundError:
        return None
    text = data.decode("utf-8", errors="replace")
    tail = "\n".join(text.rstrip("\n").splitlines()[-lines:])[-chars:]
    return tail or None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _pid_is_runner(pid: int, state: Path) -> bool:
    """Alive and still our runner (after a reboot the pid may belong to someone else)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return state.name in cmdline.read_text(errors="replace")
        except OSError:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class CommandBackend:
    """Runs `command` (with `{placeholders}` filled per argument) detached from the bot."""

    name = "command"

    def __init__(
        self,
        *,
        command: Sequence[str],
        state_dir: Path,
        timeout: timedelta = timedelta(minutes=30),
        workdir: Path | None = None,
        clock: Clock | None = None,
        python: str = sys.executable,
        pass_env: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not command:
            raise InvalidInput("the command backend needs a non-empty `command` list")
        check_templates(command, where="command")
        if timeout <= timedelta(0):
            raise InvalidInput("the command backend's timeout must be positive")
        self.command = list(command)
        self.state_dir = Path(state_dir)
        self.timeout = timeout
        self.workdir = Path(workdir) if workdir is not None else None
        self.clock = clock or SystemClock()
        self.python = python
        self.pass_env = tuple(pass_env)
        self.env = dict(env or {})
        # The bot's own environment, read at each start: `pass_env` names come from it.
        self.environ = environ if environ is not None else os.environ

    def state_path(self, idempotency_key: str) -> Path:
        """The directory that records the start with this key."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        readable = _UNSAFE.sub("_", idempotency_key)[:60]
        return self.state_dir / f"{readable}-{digest}"

    def argv(self, request: DeployRequest) -> list[str]:
        """The argument list for this request: each argument rendered on its own."""
        values = values_for(request)
        return [render(arg, values) for arg in self.command]

    def environment(self, request: DeployRequest) -> dict[str, str]:
        """What the command's process sees in its environment for this request."""
        return self._environment(release_environment(request))

    def _environment(self, release: Mapping[str, str]) -> dict[str, str]:
        return command_environment(
            release, environ=self.environ, pass_env=self.pass_env, env=self.env
        )

    def start(self, request: DeployRequest) -> DeployHandle:
        for version in (request.version, request.previous_version):
            # Belt and braces for plans recorded before versions were checked at the door.
            if version and not is_safe_version(version):
                raise BackendError(
                    f"refusing to run the deploy command with version {version!r}: {VERSION_RULE}"
                )
        state = self.state_path(request.idempotency_key)
        handle = self._handle(request.idempotency_key, state)
        if (state / "spec.json").exists():
            # Already started under this key: never run a step twice, unless it never launched.
            if self._never_launched(state):
                self._relaunch(state)
            return handle
        release = release_environment(request)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        staging = self.state_dir / f".{state.name}.{os.getpid()}.tmp"
        staging.mkdir(exist_ok=False)
        spec = {
            "key": request.idempotency_key,
            "argv": self.argv(request),
            # The runner lives in the state directory, so relative commands need an explicit cwd.
            "cwd": str((self.workdir or Path.cwd()).resolve()),
            "timeout_seconds": self.timeout.total_seconds(),
            "started_at": self.clock.now().isoformat(),
            # RELEASE_* (nothing secret): what a relaunch needs besides the bot's environment.
            "release": release,
        }
        write_atomically(staging / "spec.json", json.dumps(spec, indent=2))
        try:
            staging.rename(state)  # the step is recorded before anything runs
        except OSError:
            (staging / "spec.json").unlink()
            staging.rmdir()
            return handle  # a concurrent start won the race; follow that one
        self._launch(state, release)
        return handle

    def find(self, request: DeployRequest) -> DeployHandle | None:
        state = self.state_path(request.idempotency_key)
        if (state / "spec.json").exists():
            return self._handle(request.idempotency_key, state)
        return None

    def status(self, handle: DeployHandle) -> DeployStatus:
        state = Path(str(handle.ref["dir"]))
        if not (state / "spec.json").exists():
            return DeployStatus(
                DeployState.FAILED, f"no record of this command run in {state} (state lost?)"
            )
        tail = output_tail(state / "output.log")
        code = _read_int(state / "exit_code")
        if code is None:
            error = state / "runner.error"
            if error.exists():
                return DeployStatus(
                    DeployState.FAILED,
                    f"the command runner failed: {error.read_text().strip()}",
                    output_tail=tail,
                )
            runner = _read_int(state / "runner.pid")
            if runner is None:
                if self._never_launched(state) and not self._relaunch(state):
                    return DeployStatus(
                        DeployState.FAILED, "the command was never launched", output_tail=tail
                    )
                return DeployStatus(DeployState.PENDING, "starting the command")
            if _pid_is_runner(runner, state):
                ran = format_duration(self._elapsed(state))
                return DeployStatus(DeployState.RUNNING, f"running for {ran}", output_tail=tail)
            code = _read_int(state / "exit_code")  # it may have finished between the two reads
            if code is None:
                return DeployStatus(
                    DeployState.FAILED,
                    "the command's runner stopped without recording an exit code "
                    "(was the machine restarted?)",
                    output_tail=tail,
                )
        if (state / "cancelled").exists():
            return DeployStatus(
                DeployState.CANCELLED, f"cancelled; the command {_describe_exit(code)}", None, tail
            )
        if (state / "timed_out").exists():
            return DeployStatus(
                DeployState.FAILED, f"timed out after {format_duration(self.timeout)}", None, tail
            )
        if code == 0:
            return DeployStatus(DeployState.SUCCEEDED, "the command exited with code 0", None, tail)
        return DeployStatus(DeployState.FAILED, f"the command {_describe_exit(code)}", None, tail)

    def cancel(self, handle: DeployHandle) -> None:
        state = Path(str(handle.ref["dir"]))
        if not (state / "spec.json").exists() or (state / "exit_code").exists():
            return
        write_atomically(state / "cancelled", self.clock.now().isoformat())
        runner = _read_int(state / "runner.pid")
        if runner is not None and _pid_is_runner(runner, state):
            return  # the runner sees the marker within a poll and stops the process group
        child = _read_int(state / "child.pid")
        if child is not None and _pid_alive(child):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGKILL)

    def _handle(self, key: str, state: Path) -> DeployHandle:
        return DeployHandle(backend=self.name, ref={"key": key, "dir": str(state)}, url=None)

    def _elapsed(self, state: Path) -> timedelta:
        spec = json.loads((state / "spec.json").read_text())
        started = datetime.fromisoformat(spec["started_at"])
        return max(timedelta(0), self.clock.now() - started)

    def _never_launched(self, state: Path) -> bool:
        return (
            not (state / "runner.pid").exists()
            and not (state / "exit_code").exists()
            and self._elapsed(state) > LAUNCH_WINDOW
        )

    def _relaunch(self, state: Path) -> bool:
        """Launch a run recorded but never launched (the process that recorded it stopped
        first, a killed bot): once, by whoever claims it first; False when it cannot be (it
        was relaunched a launch window ago and still has no runner, or an older release
        recorded it without its RELEASE_* variables)."""
        claim = state / "relaunched"
        try:
            descriptor = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            try:
                claimed = datetime.fromisoformat(claim.read_text().strip())
            except ValueError:  # being written this instant by the claimant
                return True
            return self.clock.now() - claimed <= LAUNCH_WINDOW
        with os.fdopen(descriptor, "w") as written:
            written.write(self.clock.now().isoformat())
        spec = json.loads((state / "spec.json").read_text())
        if not isinstance(spec.get("release"), dict):
            return False
        self._launch(state, {str(k): str(v) for k, v in spec["release"].items()})
        return True

    def _launch(self, state: Path, release: Mapping[str, str]) -> None:
        env = self._environment(release)
        with open(state / "runner.err", "wb") as err:
            starter = subprocess.Popen(
                [self.python, "-m", "integrations.deploy.command_runner", str(state)],
                cwd=state,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
            try:
                code = starter.wait(timeout=30)  # it forks the real runner and exits at once
            except subprocess.TimeoutExpired:
                starter.kill()
                starter.wait()
                raise BackendError("the command runner did not detach within 30s") from None
        if code != 0:
            detail = (state / "runner.err").read_text(errors="replace").strip()
            raise BackendError(f"could not start the command runner: {detail or code}")


# The bot's own credentials: a deploy script never needs them, and a leak posts them to Slack.
BOT_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATABASE_URL")


def _command_variable(name: str) -> str:
    if name.startswith("RELEASE_"):
        raise ValueError(
            f"{name} is set by releasebot for each deploy; RELEASE_* names are its own"
        )
    if name in BOT_SECRETS:
        raise ValueError(f"{name} is releasebot's own secret; deploy commands never get it")
    return name


CommandVariable = Annotated[EnvVarName, AfterValidator(_command_variable)]


def _no_repeats(names: list[str]) -> list[str]:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once")
    return names


class CommandSettings(BackendSettings):
    """Run a local argument list; exit code 0 is success."""

    command: DeployArgv = Field(
        description='the argument list, e.g. ["./deploy.sh", "{service}", "{version}"]'
    )
    timeout: PositiveDuration = Field(timedelta(minutes=30), description="default 30m")
    pass_env: Annotated[list[CommandVariable], AfterValidator(_no_repeats)] = Field(
        default_factory=list,
        description="names of variables the deploy command gets from releasebot's own "
        'environment, e.g. ["AWS_PROFILE", "KUBECONFIG"]; it gets nothing else of it',
    )
    env: dict[CommandVariable, str] = Field(
        default_factory=dict,
        description='variables set for the deploy command, e.g. { REGION = "eu-west-1" }',
    )

    @model_validator(mode="after")
    def _passed_or_set(self) -> Self:
        both = sorted(set(self.pass_env) & set(self.env))
        if both:
            raise_problems(
                "CommandSettings",
                [(("env",), f"{', '.join(both)} is in both pass_env and env; keep one")],
            )
        return self

    def anchored(self, base_dir: Path) -> Self:
        """A `./` or `../` program made absolute against the config's folder."""
        return self.model_copy(update={"command": anchored_command(base_dir, self.command)})

    def passed_through(self) -> tuple[str, ...]:
        """The `pass_env` names."""
        return tuple(self.pass_env)


def _build(settings: CommandSettings, deps: BackendDeps) -> CommandBackend:
    return CommandBackend(
        command=settings.command,
        state_dir=deps.state_dir / "deploys",
        timeout=settings.timeout,
        workdir=deps.workdir,
        pass_env=settings.pass_env,
        env=settings.env,
        environ=deps.environ,
    )


register_backend("command", CommandSettings, _build)
