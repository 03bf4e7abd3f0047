"""Detached runner for the `command` backend: `python -m integrations.deploy.command_runner DIR`.

It outlives the bot: it double-forks away from its parent, runs the deploy command in its own
process group, and leaves everything the backend needs in DIR (see `command.py` for the files).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.1
KILL_GRACE_SECONDS = 5.0


def write_atomically(path: Path, text: str) -> None:
    """Readers see the whole file or none of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _stop(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM the command's whole process group, SIGKILL it if it lingers."""
    _signal_group(child.pid, signal.SIGTERM)
    try:
        return child.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(child.pid, signal.SIGKILL)
        return child.wait()


def run(state: Path) -> int:
    """Run the command described by state/spec.json and record how it ended."""
    write_atomically(state / "runner.pid", str(os.getpid()))
    spec = json.loads((state / "spec.json").read_text())
    argv: list[str] = spec["argv"]
    timeout = float(spec["timeout_seconds"])
    with open(state / "output.log", "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(
                argv,
                cwd=spec.get("cwd"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, so cancel/timeout reach grandchildren
            )
        except OSError as exc:
            log.write(f"releasebot: could not start {argv[0]}: {exc}\n".encode())
            write_atomically(state / "exit_code", "127")
            return 127
        write_atomically(state / "child.pid", str(child.pid))
        deadline = time.monotonic() + timeout
        while True:
            code = child.poll()
            if code is not None:
                break
            if (state / "cancelled").exists():
                code = _stop(child)
                break
            if time.monotonic() >= deadline:
                write_atomically(state / "timed_out", str(timeout))
                log.write(f"\nreleasebot: timed out after {timeout:g}s; stopping\n".encode())
                code = _stop(child)
                break
            time.sleep(POLL_SECONDS)
    write_atomically(state / "exit_code", str(code))
    return 0


def main(argv: list[str]) -> int:
    """Detach (double fork) so the bot neither waits for nor has to reap the runner."""
    if len(argv) != 2:
        print("usage: python -m integrations.deploy.command_runner STATE_DIR", file=sys.stderr)
        return 2
    state = Path(argv[1])
    if not (state / "spec.json").is_file():
        print(f"no spec.json in {state}", file=sys.stderr)
        return 2
    if os.fork() > 0:
        return 0
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        run(state)
    except Exception as exc:  # noqa: BLE001 - process boundary: recorded, `status` reports it
        write_atomically(state / "runner.error", f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
