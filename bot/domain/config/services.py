"""Services: where the code lives, how it is deployed, and what verifies it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Literal, Self, TypeVar, get_args

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, model_validator

from bot.domain.config.base import ConfigModel, Loc, raise_problems
from bot.domain.config.commands import DeployArgv, DeployTemplate, check_template
from bot.domain.config.values import (
    EnvVarName,
    GithubRepo,
    Name,
    PositiveDuration,
    Text,
    Url,
    is_name,
    toml_repr,
)

BackendName = Literal["command", "github_actions", "argocd", "jenkins", "webhook"]
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)

# The service keys each backend must have, then the ones it may have.
_REQUIRED_KEYS: dict[BackendName, tuple[str, ...]] = {
    "command": ("command",),
    "github_actions": ("repo", "workflow"),
    "argocd": ("argocd_url", "app"),
    "jenkins": ("jenkins_url", "job"),
    "webhook": ("url",),
}
_OPTIONAL_KEYS: dict[BackendName, tuple[str, ...]] = {
    "command": ("timeout", "pass_env", "env"),
    "github_actions": ("ref", "ref_input", "inputs", "token_env", "api_url"),
    "argocd": ("rollout", "namespace", "token_env"),
    "jenkins": ("parameters", "user_env", "token_env"),
    "webhook": ("status_url", "secret_env"),
}
# `repo` also names where the changelog comes from, whatever the backend.
_SHARED_KEYS = frozenset({"repo"})


def _to_parameter(value: object) -> object:
    # Jenkins parameters travel as text; let admins write `DRY_RUN = false` naturally.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


JenkinsParameter = Annotated[DeployTemplate, BeforeValidator(_to_parameter)]
StatusUrl = Annotated[Url, AfterValidator(check_template)]


def _to_provider_environments(value: object) -> str | dict[str, str]:
    # One message for "text or table" rather than pydantic's error per member of the union.
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping) and not value:
        raise ValueError("an empty table maps nothing; leave environment out instead")
    if isinstance(value, Mapping):
        for key, target in value.items():
            if not is_name(key):
                raise ValueError(f"{toml_repr(key)} is not an environment name")
            if not isinstance(target, str) or not target.strip():
                raise ValueError(
                    f"{key} = {toml_repr(target)}: expected the provider's environment in quotes"
                )
        return dict(value)
    raise ValueError(
        "expected the provider's environment in quotes, or a table mapping release environments "
        f'to provider ones like {{ staging = "test" }}, got {toml_repr(value)}'
    )


ProviderEnvironments = Annotated[str | dict[str, str], PlainValidator(_to_provider_environments)]


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


PassEnv = Annotated[list[CommandVariable], AfterValidator(_no_repeats)]
CommandEnv = dict[CommandVariable, str]


class FeatureFlag(ConfigModel):
    """The flag a feature_flag strategy turns on (LaunchDarkly or Unleash)."""

    provider: Literal["launchdarkly", "unleash"]
    key: Text = Field(description="the flag's key")
    project: str | None = Field(None, description="LaunchDarkly project key (default: default)")
    environment: ProviderEnvironments | None = Field(
        None,
        description="the provider's environment: leave it out to use each release's own "
        'environment, or map them, e.g. { staging = "test", production = "production" }',
    )
    api_url: Url | None = Field(None, description="required for Unleash: your Unleash API URL")
    token_env: EnvVarName | None = None

    @property
    def token_env_name(self) -> str:
        """The environment variable holding the provider's API token."""
        default = (
            "LAUNCHDARKLY_API_TOKEN" if self.provider == "launchdarkly" else "UNLEASH_API_TOKEN"
        )
        return self.token_env or default

    def provider_environment(self, release_environment: str) -> str:
        """The provider's environment a release to `release_environment` changes."""
        if isinstance(self.environment, str):
            return self.environment
        return (self.environment or {}).get(release_environment, release_environment)

    @property
    def base_url(self) -> str:
        """The provider's API base URL."""
        return self.api_url or "https://app.launchdarkly.com"

    @model_validator(mode="after")
    def _unleash_needs_url(self) -> Self:
        if self.provider == "unleash" and self.api_url is None:
            raise_problems(
                "FeatureFlag",
                [(("api_url",), "required for provider 'unleash': your Unleash API URL")],
            )
        return self


@dataclass(frozen=True)
class CommandSettings:
    """Run a local argument list; exit code 0 is success."""

    command: list[str]
    timeout: timedelta
    # `pass_env`: names the command gets from the bot's environment; `env`: values it is given.
    # (Not called `..._env` here: those fields name one secret each, see secrets.py.)
    pass_through: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GithubActionsSettings:
    """Dispatch a workflow and follow its run."""

    repo: str
    workflow: str
    ref: str
    ref_input: str
    inputs: Mapping[str, str]
    token_env: str
    api_url: str


@dataclass(frozen=True)
class ArgoCdSettings:
    """Sync an Argo CD Application (and drive an Argo Rollout when named)."""

    argocd_url: str
    app: str
    rollout: str | None
    namespace: str | None
    token_env: str


@dataclass(frozen=True)
class JenkinsSettings:
    """Trigger a parameterised Jenkins job and follow its build."""

    jenkins_url: str
    job: str
    parameters: Mapping[str, str]
    user_env: str
    token_env: str


@dataclass(frozen=True)
class WebhookSettings:
    """POST a signed JSON payload; status by polling status_url or by signed callback."""

    url: str
    status_url: str | None
    secret_env: str


BackendSettings = (
    CommandSettings | GithubActionsSettings | ArgoCdSettings | JenkinsSettings | WebhookSettings
)


class Service(ConfigModel):
    """One `[services.<name>]` table. Backend keys are checked against the chosen backend."""

    repo_path: Text | None = Field(None, description="a local git repository for the changelog")
    repo: GithubRepo | None = Field(None, description='the GitHub repository, "owner/name"')
    backend: BackendName = "command"
    strategy: Name = Field("all_at_once", description="a [strategies.<name>] or a built-in")
    checks: list[Name] = Field(default_factory=list, description="names of [checks.<name>]")
    on_failure: Literal["rollback", "pause"] = "rollback"
    auto_deploy: bool | None = Field(None, description="overrides the environment's auto_deploy")
    environments: list[Name] | None = Field(None, description="the only environments it may go to")
    flag: FeatureFlag | None = None

    command: DeployArgv | None = Field(
        None, description='the argument list, e.g. ["./deploy.sh", "{service}", "{version}"]'
    )
    timeout: PositiveDuration | None = Field(None, description="default 30m")
    pass_env: PassEnv | None = Field(
        None,
        description="names of variables the deploy command gets from releasebot's own "
        'environment, e.g. ["AWS_PROFILE", "KUBECONFIG"]; it gets nothing else of it',
    )
    env: CommandEnv | None = Field(
        None, description='variables set for the deploy command, e.g. { REGION = "eu-west-1" }'
    )

    workflow: Text | None = Field(None, description='the workflow file, e.g. "deploy.yml"')
    ref: Text | None = Field(None, description="default main")
    ref_input: Text | None = Field(None, description="default version")
    inputs: dict[str, DeployTemplate] | None = None
    token_env: EnvVarName | None = None
    api_url: Url | None = Field(None, description="default https://api.github.com")

    argocd_url: Url | None = Field(None, description="the Argo CD server URL")
    app: Text | None = Field(None, description="the Argo CD Application name")
    rollout: Text | None = None
    namespace: Text | None = None

    jenkins_url: Url | None = Field(None, description="the Jenkins base URL")
    job: Text | None = Field(None, description='the job path, e.g. "deploy/checkout"')
    parameters: dict[str, JenkinsParameter] | None = None
    user_env: EnvVarName | None = None

    url: Url | None = Field(None, description="where the signed deployment request is POSTed")
    status_url: StatusUrl | None = None
    secret_env: EnvVarName | None = None

    @model_validator(mode="after")
    def _keys_match_the_backend(self) -> Self:
        written = {key for key in self.model_fields_set if getattr(self, key) is not None}
        raise_problems("Service", backend_key_problems(self.backend, written))
        both = sorted(set(self.pass_env or ()) & set(self.env or {}))
        if both:
            raise_problems(
                "Service",
                [(("env",), f"{', '.join(both)} is in both pass_env and env; keep one")],
            )
        return self

    def backend_settings(self) -> BackendSettings:
        """The chosen backend's settings with their defaults filled in."""
        match self.backend:
            case "command":
                return CommandSettings(
                    command=list(_present(self.command, "command")),
                    timeout=self.timeout or timedelta(minutes=30),
                    pass_through=tuple(self.pass_env or ()),
                    variables=dict(self.env or {}),
                )
            case "github_actions":
                return GithubActionsSettings(
                    repo=_present(self.repo, "repo"),
                    workflow=_present(self.workflow, "workflow"),
                    ref=self.ref or "main",
                    ref_input=self.ref_input or "version",
                    inputs=dict(self.inputs or {}),
                    token_env=self.token_env or "GITHUB_TOKEN",
                    api_url=self.api_url or "https://api.github.com",
                )
            case "argocd":
                return ArgoCdSettings(
                    argocd_url=_present(self.argocd_url, "argocd_url"),
                    app=_present(self.app, "app"),
                    rollout=self.rollout,
                    namespace=self.namespace,
                    token_env=self.token_env or "ARGOCD_TOKEN",
                )
            case "jenkins":
                return JenkinsSettings(
                    jenkins_url=_present(self.jenkins_url, "jenkins_url"),
                    job=_present(self.job, "job"),
                    parameters=dict(self.parameters or {}),
                    user_env=self.user_env or "JENKINS_USER",
                    token_env=self.token_env or "JENKINS_TOKEN",
                )
            case "webhook":
                return WebhookSettings(
                    url=_present(self.url, "url"),
                    status_url=self.status_url,
                    secret_env=self.secret_env or "RELEASEBOT_WEBHOOK_SECRET",
                )


def backend_key_problems(backend: str, written: Iterable[str]) -> list[tuple[Loc, str]]:
    """Keys the backend needs but the table lacks, and keys that belong to another backend."""
    if backend not in BACKENDS:
        return []  # the unknown backend itself is the problem, reported on its own
    chosen: BackendName = backend
    keys = set(written)
    problems: list[tuple[Loc, str]] = []
    for key in _REQUIRED_KEYS[chosen]:
        if key not in keys:
            hint = Service.model_fields[key].description
            problems.append(((key,), f"'{key}' is required for backend '{backend}' ({hint})"))
    own = {*_REQUIRED_KEYS[chosen], *_OPTIONAL_KEYS[chosen], *_SHARED_KEYS}
    for key in sorted(keys - own):
        users = [b for b in BACKENDS if key in _REQUIRED_KEYS[b] + _OPTIONAL_KEYS[b]]
        if users:
            problems.append(
                (
                    (key,),
                    f"'{key}' belongs to backend {' / '.join(repr(u) for u in users)}, "
                    f"but this service uses backend '{backend}'",
                )
            )
    return problems


_T = TypeVar("_T")


def _present(value: _T | None, key: str) -> _T:
    # Validation guarantees these; only a hand-built (model_construct) Service can miss them.
    if value is None:
        raise ValueError(f"service has no '{key}'")
    return value
