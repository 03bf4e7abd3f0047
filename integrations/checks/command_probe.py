"""The `command` check: run a local smoke test (an argument list, never a shell)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from datetime import timedelta

from bot.domain.checks.measurement import Measurement, Outcome
from bot.domain.clock import Clock, ensure_utc
from bot.domain.errors import InvalidInput
from integrations.checks.http_probe import format_latency

TAIL_LINES = 20
TAIL_CHARS = 1500
# The smoke test gets a working base environment but not the bot's own secrets
# (SLACK_BOT_TOKEN, DATABASE_URL, ...); anything else it needs is passed in `env`.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


def output_tail(output: bytes) -> str:
    """The last lines of a command's output, short enough for a Slack thread."""
    text = output.decode("utf-8", errors="replace").rstrip()
    tail = "\n".join(text.splitlines()[-TAIL_LINES:])
    return tail if len(tail) <= TAIL_CHARS else "…" + tail[-TAIL_CHARS:]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The command may have started children that hold the output pipe open; they go too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class CommandProbe:
    """Exit 0 passes, any other exit fails with the output's tail, a timeout is an error."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        timeout: timedelta,
        env: Mapping[str, str] | None = None,
        clock: Clock,
    ) -> None:
        if not argv:
            raise InvalidInput(f"checks.{name}.command: the command is empty")
        self.name = name
        self.argv = list(argv)
        self.timeout = timeout
        self.env = dict(env or {})
        self._clock = clock

    def _environment(self) -> dict[str, str]:
        base = {key: os.environ[key] for key in INHERITED if key in os.environ}
        return base | self.env

    def measure(self) -> Measurement:
        """Take one measurement."""
        started = self._clock.now()
        command = self.argv[0]
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
            )
        except OSError as error:
            return self._done(Outcome.ERROR, None, f"cannot run {command!r}: {error.strerror}")
        try:
            output, _ = process.communicate(timeout=self.timeout.total_seconds())
        except subprocess.TimeoutExpired:
            _kill_group(process)
            output, _ = process.communicate()
            tail = output_tail(output)
            detail = f"{command} timed out after {format_latency(self.timeout)}"
            return self._done(Outcome.ERROR, None, detail + (f"; output:\n{tail}" if tail else ""))
        finally:
            if process.poll() is None:  # pragma: no cover - only on an unexpected exception
                _kill_group(process)
                process.wait()
        took = format_latency(self._clock.now() - started)
        code = process.returncode
        if code == 0:
            return self._done(Outcome.SUCCESS, 0.0, f"{command} exited 0 in {took}")
        how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
        tail = output_tail(output)
        detail = f"{command} {how} in {took}" + (f"; output:\n{tail}" if tail else "")
        return self._done(Outcome.FAILURE, float(code), detail)

    def _done(self, outcome: Outcome, value: float | None, detail: str) -> Measurement:
        return Measurement(outcome, value, detail, ensure_utc(self._clock.now()))
