"""The command backend runs real processes: arguments, environment, exit codes, survival."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.errors import BackendError, InvalidInput
from bot.ports.deploy import DeployRequest, DeployState, DeployStatus
from console.testing import ManualClock
from integrations.deploy.command import CommandBackend


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def wait_for_file(path: Path, within: float = 10.0) -> str:
    deadline = time.monotonic() + within
    while not path.exists() or not path.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)
    return path.read_text()


def pid_gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_runs_the_command_with_placeholders_and_release_environment(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    deploy = script(
        tmp_path,
        "deploy.sh",
        """\
        echo "args: $*"
        echo "env: $RELEASE_ID $RELEASE_SERVICE $RELEASE_VERSION $RELEASE_ENVIRONMENT"
        echo "env: weight=$RELEASE_WEIGHT action=$RELEASE_ACTION stage=$RELEASE_STAGE"
        echo "key: $RELEASE_IDEMPOTENCY_KEY"
        """,
    )
    backend = CommandBackend(
        command=[str(deploy), "{service}", "{version}", "{environment}", "{weight}"],
        state_dir=tmp_path / "state",
    )

    handle = backend.start(request_factory())
    status = finished(backend, handle)

    assert status.state is DeployState.SUCCEEDED
    assert status.output_tail is not None
    assert "args: checkout 1.4.2 production 10" in status.output_tail
    assert "env: R-12 checkout 1.4.2 production" in status.output_tail
    assert "weight=10 action=deploy stage=canary 10%" in status.output_tail
    assert "key: R-12:deploy:0" in status.output_tail


def test_a_hostile_version_is_refused_before_anything_runs(
    tmp_path: Path, request_factory: Callable[..., DeployRequest]
) -> None:
    """Plans recorded before the grammar checked versions must not reach the command either."""
    record = tmp_path / "args.txt"
    deploy = script(tmp_path, "deploy.sh", f'printf "%s\\n" "$@" > {record}\n')
    canary = tmp_path / "pwned"
    backend = CommandBackend(
        command=[str(deploy), "--version={version}", "{service}"], state_dir=tmp_path / "state"
    )
    for hostile in (f"1.0; rm -rf / $(touch {canary}) `touch {canary}`", "--help", "../../x"):
        with pytest.raises(BackendError) as refused:
            backend.start(request_factory(version=hostile))
        assert refused.value.message.startswith(
            f"refusing to run the deploy command with version {hostile!r}: use letters, digits"
        )
    with pytest.raises(BackendError, match="with version '-rf'"):
        backend.start(request_factory(previous_version="-rf"))
    assert not record.exists()
    assert not canary.exists()
    assert not (tmp_path / "state").exists()


def test_versions_with_every_allowed_character_stay_one_literal_argument(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    record = tmp_path / "args.txt"
    deploy = script(
        tmp_path, "deploy.sh", f'echo "$#" > {record}\nprintf "%s\\n" "$@" >> {record}\n'
    )
    version = "ghcr.io/acme/checkout@sha256:ab12+build_7-rc.1"
    backend = CommandBackend(
        command=[str(deploy), "--version={version}", "{service}"], state_dir=tmp_path / "state"
    )

    status = finished(backend, backend.start(request_factory(version=version)))

    assert status.state is DeployState.SUCCEEDED
    count, *args = record.read_text().splitlines()
    assert count == "2"
    assert args == [f"--version={version}", "checkout"]


def test_a_non_zero_exit_fails_with_the_output_tail(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    lines = "\n".join(f"echo line {i}" for i in range(100))
    deploy = script(
        tmp_path, "deploy.sh", f"{lines}\necho 'kubectl: image not found' >&2\nexit 3\n"
    )
    backend = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state")

    status = finished(backend, backend.start(request_factory()))

    assert status.state is DeployState.FAILED
    assert status.message == "the command exited with code 3"
    assert status.output_tail is not None
    assert status.output_tail.endswith("kubectl: image not found")
    assert len(status.output_tail.splitlines()) == 40
    assert "line 0\n" not in status.output_tail


def test_a_command_that_cannot_start_fails_clearly(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    backend = CommandBackend(
        command=["./no-such-deploy.sh"], state_dir=tmp_path / "state", workdir=tmp_path
    )

    status = finished(backend, backend.start(request_factory()))

    assert status.state is DeployState.FAILED
    assert status.message == "the command exited with code 127"
    assert (
        status.output_tail is not None
        and "could not start ./no-such-deploy.sh" in status.output_tail
    )


def test_relative_commands_run_in_the_workdir(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    script(tmp_path, "deploy.sh", "pwd\n")
    backend = CommandBackend(
        command=["./deploy.sh"], state_dir=tmp_path / "state", workdir=tmp_path
    )

    status = finished(backend, backend.start(request_factory()))

    assert status.state is DeployState.SUCCEEDED
    assert status.output_tail == str(tmp_path.resolve())


def test_a_timeout_fails_the_stage_and_kills_the_whole_process_group(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    grandchild = tmp_path / "grandchild.pid"
    deploy = script(tmp_path, "deploy.sh", f"sleep 60 &\necho $! > {grandchild}\nwait\n")
    backend = CommandBackend(
        command=[str(deploy)], state_dir=tmp_path / "state", timeout=timedelta(seconds=1)
    )

    handle = backend.start(request_factory())
    pid = int(wait_for_file(grandchild))
    status = finished(backend, handle, within=20)

    assert status.state is DeployState.FAILED
    assert status.message == "timed out after 1s"
    assert pid_gone(pid), "the command's background child outlived the timeout"


def test_cancel_stops_the_command(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    started = tmp_path / "started"
    deploy = script(tmp_path, "deploy.sh", f"echo yes > {started}\nsleep 60\n")
    backend = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state")

    handle = backend.start(request_factory())
    wait_for_file(started)
    assert backend.status(handle).state is DeployState.RUNNING
    backend.cancel(handle)
    status = finished(backend, handle)

    assert status.state is DeployState.CANCELLED
    assert "SIGTERM" in status.message


def test_the_same_key_never_runs_twice_and_find_returns_the_earlier_start(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    runs = tmp_path / "runs.txt"
    deploy = script(tmp_path, "deploy.sh", f"echo ran >> {runs}\n")
    request = request_factory()
    first = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state")
    assert first.find(request) is None

    handle = first.start(request)
    finished(first, handle)
    again = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state")

    assert again.find(request) == handle
    assert again.start(request) == handle
    assert finished(again, handle).state is DeployState.SUCCEEDED
    assert runs.read_text() == "ran\n"
    assert again.find(request_factory(idempotency_key="R-12:deploy:1")) is None


def test_the_command_survives_the_bot_being_killed(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    go = tmp_path / "go"
    deploy = script(
        tmp_path, "deploy.sh", f"while [ ! -e {go} ]; do sleep 0.05; done\necho done\nexit 7\n"
    )
    state = tmp_path / "state"
    bot = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from bot.ports.deploy import DeployRequest
        from integrations.deploy.command import CommandBackend
        backend = CommandBackend(command=[{str(deploy)!r}], state_dir=Path({str(state)!r}))
        backend.start(DeployRequest("R-12", "checkout", "1.4.2", "production", "deploy", 0,
                                    "all at once", None, None, "R-12:deploy:0"))
        print("started", flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", bot], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGKILL)  # the bot dies mid-rollout
    proc.wait()
    proc.stdout.close()

    restarted = CommandBackend(command=[str(deploy)], state_dir=state)
    handle = restarted.find(request_factory(idempotency_key="R-12:deploy:0"))
    assert handle is not None
    assert restarted.status(handle).state is DeployState.RUNNING
    go.write_text("")
    status = finished(restarted, handle)

    assert status.state is DeployState.FAILED
    assert status.message == "the command exited with code 7"
    assert status.output_tail == "done"


def test_unknown_placeholders_are_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"unknown placeholder \{tag\}"):
        CommandBackend(command=["./deploy.sh", "{tag}"], state_dir=tmp_path)


def test_empty_weight_and_colour_when_the_stage_has_none(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
) -> None:
    deploy = script(tmp_path, "deploy.sh", 'echo "[$1] [$2] [$RELEASE_WEIGHT] [$RELEASE_COLOUR]"\n')
    backend = CommandBackend(
        command=[str(deploy), "{weight}", "{colour}"], state_dir=tmp_path / "s"
    )

    request = request_factory(weight=None, colour=None, stage_name="all at once")
    status = finished(backend, backend.start(request))

    assert status.output_tail == "[] [] [] []"


def test_the_command_gets_a_working_base_release_variables_and_its_service_list_only(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bot's own secrets stay in the bot (issue 9.8): the environment is built, not copied."""
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-not-for-scripts",
        "SLACK_SIGNING_SECRET": "signing-not-for-scripts",
        "DATABASE_URL": "postgresql://bot:hunter2@db/releasebot",
        "GITHUB_TOKEN": "ghp_not_for_scripts",
        "AWS_PROFILE": "deployer",
        "LC_TIME": "C",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    deploy = script(tmp_path, "deploy.sh", "env\n")
    backend = CommandBackend(
        command=[str(deploy)],
        state_dir=tmp_path / "state",
        pass_env=["AWS_PROFILE", "KUBECONFIG"],
        env={"REGION": "eu-west-1"},
    )

    status = finished(backend, backend.start(request_factory()))

    assert status.state is DeployState.SUCCEEDED
    assert status.output_tail is not None
    seen = dict(line.split("=", 1) for line in status.output_tail.splitlines() if "=" in line)
    assert not {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL", "GITHUB_TOKEN"} & set(
        seen
    )
    assert seen["AWS_PROFILE"] == "deployer"
    assert "KUBECONFIG" not in seen  # listed but unset: simply absent
    assert seen["REGION"] == "eu-west-1"
    assert seen["LC_TIME"] == "C"
    assert seen["PATH"] == os.environ["PATH"]
    assert (seen["RELEASE_ID"], seen["RELEASE_VERSION"]) == ("R-12", "1.4.2")
    unexpected = {
        name
        for name in seen
        if not name.startswith(("RELEASE_", "LC_"))
        and name not in {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER"}
        and name not in {"AWS_PROFILE", "REGION"}
        # What the shell itself sets for the script.
        and name not in {"PWD", "SHLVL", "_", "OLDPWD"}
    }
    assert unexpected == set()


def test_a_run_recorded_but_never_launched_is_launched_once_its_launch_window_has_passed(
    tmp_path: Path,
    request_factory: Callable[..., DeployRequest],
    finished: Callable[..., DeployStatus],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = tmp_path / "calls.log"
    deploy = script(
        tmp_path, "deploy.sh", f'echo "$RELEASE_IDEMPOTENCY_KEY $RELEASE_WEIGHT" >> {calls}\n'
    )
    clock = ManualClock()
    request = request_factory()

    def killed_before_launching(*_: object) -> None:
        return None  # the bot was killed after recording the run, before launching it

    monkeypatch.setattr(CommandBackend, "_launch", killed_before_launching)
    CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state", clock=clock).start(request)
    monkeypatch.undo()

    # The restarted bot finds the recorded run (so it never starts the step a second time) and
    # waits: within the launch window, the killed process's launcher may still be on its way.
    restarted = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state", clock=clock)
    handle = restarted.find(request)
    assert handle is not None
    assert restarted.status(handle).state is DeployState.PENDING
    assert not calls.exists()

    # Past the window it launches the run itself, once, however many ask.
    clock.advance(timedelta(seconds=31))
    other = CommandBackend(command=[str(deploy)], state_dir=tmp_path / "state", clock=clock)
    assert restarted.status(handle).state in (DeployState.PENDING, DeployState.RUNNING)
    assert other.status(handle).state is not DeployState.FAILED
    assert finished(restarted, handle).state is DeployState.SUCCEEDED
    assert calls.read_text() == "R-12:deploy:0 10\n"
