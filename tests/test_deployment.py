"""Deployment secrets: the demo's secrets never reach the network, and an empty value is
never a secret. Through the CLI (`run`, `check-config`) and the REST API over HTTP."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.config.settings import load_settings
from gateway.errors import ConfigError
from tests.conftest import ROOT

DEMO_CONFIG = ROOT / "config" / "gateway.toml"
STRONG_PASSWORD = "Tall-Lantern-Orchard-42"


def cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`helpdesk-gateway ARGS` with only `env` as HELPDESK_* settings, on a scratch database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    clean["HELPDESK_DATABASE__URL"] = f"sqlite:{tmp_path / 'hd.db'}"
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_the_docker_image_as_documented_refuses_to_serve_the_demo_secrets(
        tmp_path: Path) -> None:
    # The Dockerfile's start: the demo config, HELPDESK_SERVER__HOST=0.0.0.0, no secrets given.
    started = cli(["run", "--config", str(DEMO_CONFIG), "--port", "0"],
                  {"HELPDESK_SERVER__HOST": "0.0.0.0"}, tmp_path)
    assert started.returncode == 2, started.stderr
    assert "HELPDESK_CONSOLE__ADMIN__PASSWORD" in started.stderr
    assert "HELPDESK_API__INTEGRATIONS__DEMO__KEY" in started.stderr
    assert "velora-demo" not in started.stderr and "demo-api-key" not in started.stderr
    assert not (tmp_path / "hd.db").exists()  # refused before anything was opened


def test_a_command_line_host_is_checked_too_and_each_demo_secret_is_named(
        tmp_path: Path) -> None:
    own_password = {"HELPDESK_CONSOLE__ADMIN__PASSWORD": STRONG_PASSWORD}
    key_left = cli(["run", "--config", str(DEMO_CONFIG), "--host", "0.0.0.0", "--port", "0"],
                   own_password, tmp_path)
    assert key_left.returncode == 2
    assert "HELPDESK_API__INTEGRATIONS__DEMO__KEY" in key_left.stderr
    assert "HELPDESK_CONSOLE__ADMIN__PASSWORD" not in key_left.stderr
    keyless = tmp_path / "keyless.toml"
    keyless.write_text(f'[knowledge_base]\npath = "{ROOT / "config" / "kb"}"\n',
                       encoding="utf-8")
    no_key = cli(["check-config", "--config", str(keyless)],
                 {**own_password, "HELPDESK_SERVER__HOST": "::"}, tmp_path)
    assert no_key.returncode == 2 and "api.integrations is empty" in no_key.stderr
    assert "HELPDESK_API__INTEGRATIONS__<NAME>__KEY" in no_key.stderr
    slack = cli(["check-config", "--config", str(DEMO_CONFIG)],
                {**own_password, "HELPDESK_SERVER__HOST": "0.0.0.0",
                 "HELPDESK_API__INTEGRATIONS__DEMO__KEY": secrets.token_urlsafe(32),
                 "HELPDESK_SLACK__SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"},
                tmp_path)
    assert slack.returncode == 2 and "HELPDESK_SLACK__SIGNING_SECRET" in slack.stderr


def test_with_secrets_of_its_own_the_image_config_is_accepted(tmp_path: Path) -> None:
    checked = cli(["check-config", "--config", str(DEMO_CONFIG)], {
        "HELPDESK_SERVER__HOST": "0.0.0.0",
        "HELPDESK_API__INTEGRATIONS__DEMO__KEY": secrets.token_urlsafe(32),
        "HELPDESK_CONSOLE__ADMIN__PASSWORD": STRONG_PASSWORD}, tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_make_run_keeps_serving_the_demo_on_loopback(tmp_path: Path) -> None:
    checked = cli(["check-config", "--config", str(DEMO_CONFIG)], {}, tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_an_empty_admin_password_is_refused_not_created(tmp_path: Path) -> None:
    checked = cli(["check-config", "--config", str(DEMO_CONFIG)],
                  {"HELPDESK_CONSOLE__ADMIN__PASSWORD": ""}, tmp_path)
    assert checked.returncode == 2
    assert "console.admin.password" in checked.stderr and "empty" in checked.stderr
    # The bootstrap admin obeys the same policy as every operator (gateway/passwords.py).
    for value, said in (("   ", "empty"), ("short-one", "at least 12"),
                        ("qwerty123456", "most common")):
        with pytest.raises(ConfigError) as refused:
            load_settings(DEMO_CONFIG, environ={"HELPDESK_CONSOLE__ADMIN__PASSWORD": value})
        assert refused.value.key == "console.admin.password" and said in str(refused.value)


async def test_an_empty_api_key_never_matches_a_missing_header(
        aiohttp_client: Callable[..., Any], tmp_path: Path) -> None:
    body = {"customer": {"id": "c-1"}, "text": "Kan ik een testrit doen?"}
    for blank in ("", "  "):
        with pytest.raises(ConfigError) as refused:
            load_settings(DEMO_CONFIG, environ={"HELPDESK_API__INTEGRATIONS__DEMO__KEY": blank})
        assert refused.value.key == "api.integrations.demo.key"
        assert "empty key is no secret" in str(refused.value)
    for raw in (" k1 ",):
        settings = load_settings(DEMO_CONFIG, environ={
            "HELPDESK_API__INTEGRATIONS__DEMO__KEY": raw,
            "HELPDESK_DATABASE__URL": f"sqlite:{tmp_path / 'a.db'}"})
        app: web.Application = create_app(settings)
        client = await aiohttp_client(app)
        for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer "},
                        {"Authorization": "Bearer  "}):
            response = await client.post("/api/v1/messages", json=body, headers=headers)
            assert response.status == 401, (raw, headers)
        if raw:
            response = await client.post("/api/v1/messages", json=body,
                                         headers={"Authorization": "Bearer k1"})
            assert response.status == 201, raw
        await client.close()


def test_the_chat_identity_secret_is_never_empty_short_nor_published(tmp_path: Path) -> None:
    for value in ("", "   ", "short-secret"):
        with pytest.raises(ConfigError) as refused:
            load_settings(DEMO_CONFIG, environ={"HELPDESK_WEBCHAT__IDENTITY_SECRET": value})
        assert refused.value.key == "webchat.identity_secret"
        assert "at least 32 characters" in str(refused.value)
    own = {"HELPDESK_SERVER__HOST": "0.0.0.0", "HELPDESK_CONSOLE__ADMIN__PASSWORD": STRONG_PASSWORD,
           "HELPDESK_API__INTEGRATIONS__DEMO__KEY": secrets.token_urlsafe(32)}
    published = cli(["check-config", "--config", str(DEMO_CONFIG)], {
        **own, "HELPDESK_WEBCHAT__IDENTITY_SECRET": "example-identity-secret-from-the-docs-0123"},
        tmp_path)
    assert published.returncode == 2 and "HELPDESK_WEBCHAT__IDENTITY_SECRET" in published.stderr
    assert "example-identity-secret" not in published.stderr
    accepted = cli(["check-config", "--config", str(DEMO_CONFIG)], {
        **own, "HELPDESK_WEBCHAT__IDENTITY_SECRET": secrets.token_urlsafe(32)}, tmp_path)
    assert accepted.returncode == 0, accepted.stderr


def test_the_survey_link_secret_is_never_empty_short_nor_published(tmp_path: Path) -> None:
    for value in ("", "   ", "short-secret"):
        with pytest.raises(ConfigError) as refused:
            load_settings(DEMO_CONFIG, environ={"HELPDESK_CSAT__SECRET": value})
        assert refused.value.key == "csat.secret"
        assert "at least 32 characters" in str(refused.value)
    own = {"HELPDESK_SERVER__HOST": "0.0.0.0", "HELPDESK_CONSOLE__ADMIN__PASSWORD": STRONG_PASSWORD,
           "HELPDESK_API__INTEGRATIONS__DEMO__KEY": secrets.token_urlsafe(32)}
    published = cli(["check-config", "--config", str(DEMO_CONFIG)], {
        **own, "HELPDESK_CSAT__SECRET": "a-test-csat-secret-of-at-least-32-characters"}, tmp_path)
    assert published.returncode == 2 and "HELPDESK_CSAT__SECRET" in published.stderr
    accepted = cli(["check-config", "--config", str(DEMO_CONFIG)], {
        **own, "HELPDESK_CSAT__SECRET": secrets.token_urlsafe(32)}, tmp_path)
    assert accepted.returncode == 0, accepted.stderr
