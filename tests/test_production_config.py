"""The production example: compose.yaml parses, passes only settings that exist, and with
its secrets supplied the production TOML loads and passes the start-up check on 0.0.0.0."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from gateway.config import deployment
from gateway.config.settings import ENV_PREFIX, Settings, load_settings
from gateway.errors import ConfigError
from tests.conftest import ROOT

COMPOSE = ROOT / "compose.yaml"
PRODUCTION = ROOT / "config" / "gateway.production.toml"
#: ${NAME:?message} and ${NAME}: what compose substitutes from the environment.
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::\?[^}]*)?\}")
SUPPLIED = {"POSTGRES_PASSWORD": "pgSecret123", "HELPDESK_API__INTEGRATIONS__APP__KEY": "k" * 43,
            "HELPDESK_CONSOLE__ADMIN__PASSWORD": "Tall-Lantern-Orchard-42",
            "HELPDESK_SERVER__PUBLIC_URL": "https://support.example.com"}


def _is_setting(name: str) -> bool:
    """Does HELPDESK_A__B__C name a field of the settings model?"""
    model: Any = Settings
    for part in name.removeprefix(ENV_PREFIX).lower().split("__"):
        if get_origin(model) is dict:  # a table of named entries: any name, then its model
            model = get_args(model)[1]
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return False
        model = field.annotation
    return not ((isinstance(model, type) and issubclass(model, BaseModel))
                or get_origin(model) is dict)


def _gateway_environment() -> dict[str, str]:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    gateway = compose["services"]["gateway"]
    assert gateway["command"][-1] == "config/gateway.production.toml"
    environment: dict[str, str] = gateway["environment"]
    return {name: VARIABLE.sub(lambda m: SUPPLIED[m.group(1)], str(value))
            for name, value in environment.items()}


def test_compose_passes_only_settings_that_exist() -> None:
    environment = _gateway_environment()
    assert environment and all(name.startswith(ENV_PREFIX) for name in environment)
    unknown = [name for name in environment if not _is_setting(name)]
    assert not unknown
    assert not _is_setting("HELPDESK_CONSOLE__ADMIN__PASSWRD")  # the check does catch typos
    assert not _is_setting("HELPDESK_CONSOLE__ADMIN")
    assert not _is_setting("HELPDESK_API__INTEGRATIONS__APP__KYE")


def test_the_production_config_loads_with_the_secrets_from_the_environment() -> None:
    settings = load_settings(PRODUCTION, environ=_gateway_environment())
    assert settings.database_url == "postgresql://helpdesk:pgSecret123@db:5432/helpdesk"
    assert settings.console.secure_cookies
    assert deployment.problems(settings, settings.server.host) == []
    # without them it does not start: the secrets are not in the file
    with pytest.raises(ConfigError) as missing:
        load_settings(PRODUCTION, environ={})
    assert missing.value.key == "api.integrations.app.key"


def test_no_demo_secret_in_the_production_files() -> None:
    text = COMPOSE.read_text(encoding="utf-8") + PRODUCTION.read_text(encoding="utf-8")
    for secret in (*deployment.DEMO_PASSWORDS, *deployment.DEMO_API_KEYS,
                   *deployment.DEMO_SLACK, *deployment.DEMO_IDENTITY):
        assert secret not in text
