"""Services: where the code lives, how it is deployed, and what verifies it.

A service table holds the keys every service has (below) plus the keys of its backend, which
the backend's own `BackendSettings` model in the registry (`backends.py`) declares and checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from bot.domain.config.backends import BACKENDS, BackendSettings
from bot.domain.config.base import ConfigModel, Loc, raise_problems
from bot.domain.config.problems import humanize, unknown_key
from bot.domain.config.values import (
    EnvVarName,
    GithubRepo,
    Name,
    Text,
    Url,
    is_name,
    toml_repr,
)


def _registered_backend(value: object) -> str:
    if isinstance(value, str) and value in BACKENDS.names():
        return value
    raise ValueError(unknown_backend(value))


def unknown_backend(value: object) -> str:
    """Worded as the Literal it replaced, listing the registered backends."""
    names = BACKENDS.names()
    quoted = [repr(name) for name in names]
    expected = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"expected {expected}, got {toml_repr(value)}"


# A `backend = "..."` name: one of the registered backends.
BackendName = Annotated[str, PlainValidator(_registered_backend)]


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

    _settings: BackendSettings | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _validate_backend_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        # The service's own keys go to this model, the rest to the chosen backend's model;
        # every problem of both is reported together, each at its own key.
        if not isinstance(data, Mapping):
            return handler(data)
        BACKENDS.names()  # refuses loudly when no entry point registered the backends
        problems: list[tuple[Loc, str]] = []
        service: Self | None = None
        try:
            service = handler(
                {key: value for key, value in data.items() if key in cls.model_fields}
            )
        except ValidationError as error:
            problems += [humanize(cls, detail) for detail in error.errors()]
        settings, found = _backend_settings(data, common=cls.model_fields.keys())
        problems += found
        raise_problems(cls.__name__, list(dict.fromkeys(problems)))
        assert service is not None and settings is not None  # no problems: both were built
        service._settings = settings
        return service

    @model_serializer(mode="wrap")
    def _with_backend_keys(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        # Dumped as the table was written: the backend's keys sit beside the service's own.
        table: dict[str, Any] = handler(self)
        if self._settings is not None:
            table |= self._settings.model_dump(
                mode=info.mode, exclude_none=info.exclude_none, round_trip=info.round_trip
            )
        return table

    def backend_settings(self) -> BackendSettings:
        """The chosen backend's settings with their defaults filled in."""
        # Validation sets them; only a hand-built (model_construct) Service can miss them.
        if self._settings is None:
            raise ValueError("service has no backend settings")
        return self._settings

    def written(self, key: str) -> str | None:
        """A backend key's text as the table spells it; None when it is left out."""
        settings = self._settings
        if settings is None or key not in settings.model_fields_set:
            return None
        value = getattr(settings, key)
        return value if isinstance(value, str) else None


def _backend_settings(
    data: Mapping[str, Any], *, common: Iterable[str]
) -> tuple[BackendSettings | None, list[tuple[Loc, str]]]:
    """The chosen backend's settings from a service table, or every problem with its keys."""
    # TOML has no null; a None from Python means "left out", as for the service's own keys.
    table = {key: value for key, value in data.items() if value is not None}
    name = data.get("backend", "command")
    chosen = BACKENDS.get(name) if isinstance(name, str) else None
    problems: list[tuple[Loc, str]] = []
    if chosen is None and "backend" not in data:
        problems.append((("backend",), unknown_backend(name)))  # the default is unregistered
    settings: BackendSettings | None = None
    fields = chosen.settings.model_fields if chosen is not None else {}
    if chosen is not None:
        own = {key: value for key, value in table.items() if key in fields}
        settings, found = _validated(chosen.settings, own)
        problems += found
    for key, value in table.items():
        if key in fields or key in common:
            continue
        owners = BACKENDS.owners(key)
        if not owners:
            problems.append(((key,), unknown_key(key, _known_keys())))
            continue
        # Another backend's key is reported as misplaced below, and checked here as that
        # backend would, so moving it to the right service holds no second surprise.
        owner = BACKENDS.get(owners[0])
        assert owner is not None
        problems += _validated(owner.settings, {key: value})[1]
    if chosen is not None:
        problems += backend_key_problems(chosen.name, table)
    return settings, problems


def _validated(
    model: type[BackendSettings], table: Mapping[str, Any]
) -> tuple[BackendSettings | None, list[tuple[Loc, str]]]:
    """The backend's settings from `table`, or the problems found, worded for the admin."""
    try:
        return model.model_validate(table), []
    except ValidationError as error:
        return None, [
            humanize(model, detail)
            for detail in error.errors()
            # A missing key is named with its backend by `backend_key_problems`.
            if not (detail["type"] == "missing" and len(detail["loc"]) == 1)
        ]


def _known_keys() -> list[str]:
    return list(dict.fromkeys([*Service.model_fields, *BACKENDS.keys()]))


def backend_key_problems(backend: str, written: Iterable[str]) -> list[tuple[Loc, str]]:
    """Keys the backend needs but the table lacks, and keys that belong to another backend."""
    chosen = BACKENDS.get(backend)
    if chosen is None:
        return []  # the unknown backend itself is the problem, reported on its own
    fields = chosen.settings.model_fields
    keys = set(written)
    problems: list[tuple[Loc, str]] = []
    for key, field in fields.items():
        if field.is_required() and key not in keys:
            hint = f" ({field.description})" if field.description else ""
            problems.append(((key,), f"'{key}' is required for backend '{backend}'{hint}"))
    # A key of the service itself (`repo` also names where the changelog comes from) is shared.
    own = {*fields, *Service.model_fields}
    for key in sorted(keys - own):
        users = BACKENDS.owners(key)
        if users:
            problems.append(
                (
                    (key,),
                    f"'{key}' belongs to backend {' / '.join(repr(u) for u in users)}, "
                    f"but this service uses backend '{backend}'",
                )
            )
    return problems
