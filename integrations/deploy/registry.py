"""Deployment backends and flag clients built from a service's configuration."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

import httpx

from bot.domain.callbacks import CALLBACK_PATH
from bot.domain.config import ReleasebotConfig
from bot.domain.errors import InvalidInput
from bot.ports.deploy import DeployBackend
from bot.ports.flags import FlagClient
from integrations.deploy.redacted import Redact, RedactedBackend, RedactedFlags
from integrations.deploy.registration import BackendDeps, CallbackLookup, build_backend
from integrations.deploy.webhook import WebhookSettings
from integrations.flags.launchdarkly import LaunchDarklyFlags
from integrations.flags.unleash import UnleashFlags


class ConfiguredBackends:
    """One backend per service, built on first use from releasebot.toml and the environment."""

    def __init__(
        self,
        *,
        config: ReleasebotConfig,
        http: httpx.Client,
        state_dir: Path,
        public_url: str,
        callback_lookup: CallbackLookup,
        environ: Mapping[str, str] | None = None,
        redact: Redact | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._state_dir = state_dir
        self._public_url = public_url.rstrip("/")
        self._callback_lookup = callback_lookup
        self._environ = environ if environ is not None else os.environ
        # What backends say is redacted of configured secrets before the engine sees it.
        self._redact = redact
        self._built: dict[str, DeployBackend] = {}
        self._lock = threading.Lock()

    def redact(self, text: str) -> str:
        """`text` with every configured secret replaced (as is when no redactor was given)."""
        return self._redact(text) if self._redact is not None else text

    def deployer(self, service: str) -> DeployBackend:
        """The service's deployment backend."""
        with self._lock:
            if service not in self._built:
                built = self._build(service)
                if self._redact is not None:
                    built = RedactedBackend(built, self._redact)
                self._built[service] = built
            return self._built[service]

    def flags(self, service: str, environment: str) -> tuple[FlagClient, str]:
        """The service's flag client for a release to `environment`, and the flag key."""
        flag = self._config.service(service).flag
        if flag is None:
            raise InvalidInput(f"service '{service}' has no feature flag configured")
        # Only the variable the config names: never another token found under a default name.
        token = self._environ.get(flag.token_env_name)
        if not token:
            raise InvalidInput(
                f"service '{service}' changes its {flag.provider} flag with the token in "
                f"{flag.token_env_name}, which is not set"
            )
        target = flag.provider_environment(environment)
        if flag.provider == "launchdarkly":
            client: FlagClient = LaunchDarklyFlags(
                self._http, flag.project or "default", target, token, api_url=flag.base_url
            )
        else:
            client = UnleashFlags(
                self._http, flag.base_url, flag.project or "default", target, token
            )
        if self._redact is not None:
            client = RedactedFlags(client, self._redact)
        return client, flag.key

    def webhook_secret(self, service: str) -> str | None:
        """The HMAC secret of a webhook service (for verifying its callbacks)."""
        settings = self._config.backend_settings(service)
        if isinstance(settings, WebhookSettings):
            return self._environ.get(settings.secret_env)
        return None

    def _build(self, service: str) -> DeployBackend:
        deps = BackendDeps(
            http=self._http,
            state_dir=self._state_dir,
            workdir=self._config.base_dir,
            callback_url=self._public_url + CALLBACK_PATH,
            callback_lookup=self._callback_lookup,
            environ=self._environ,
        )
        name = self._config.service(service).backend
        return build_backend(name, self._config.backend_settings(service), deps)
