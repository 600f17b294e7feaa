"""The Slack channel: customers write to the app (DMs, mentions; one thread is one
conversation) and, optionally, operators work tickets in a channel. See docs/slack.md.

Modules: `translate` (pure Slack ↔ gateway records), `blocks` (Block Kit layouts), `events`
(bolt listeners), `operators` (the operators' channel), `users` (users.info), `webapi`
(posting with pacing and delivery errors), `connector` (lifecycle, routes, send).
"""

from __future__ import annotations

from aiohttp import web

from gateway.errors import ConfigError
from gateway.keys import CONNECTORS, SETTINGS

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the connector under "slack"; in HTTP mode, mount the Events API routes."""
    settings = app[SETTINGS]
    slack = settings.slack
    _require(slack.bot_token.get_secret_value(), "slack.bot_token", "the bot token (xoxb-…)")
    if slack.mode == "http":
        _require(slack.signing_secret.get_secret_value(), "slack.signing_secret",
                 "the signing secret (HTTP mode)")
    else:
        _require(slack.app_token.get_secret_value(), "slack.app_token",
                 "an app-level token (xapp-…) for Socket Mode")
    from connectors.slack.connector import SlackConnector  # slack-bolt only when enabled

    connector = SlackConnector(app, settings)
    app[CONNECTORS][connector.channel] = connector
    if slack.mode == "http":
        # One handler for both: Slack may be given the same Request URL for events and
        # interactivity; bolt tells them apart from the body.
        app.router.add_post("/slack/events", connector.handle_http)
        app.router.add_post("/slack/interactions", connector.handle_http)


def _require(value: str, key: str, what: str) -> None:
    if not value:
        raise ConfigError("[slack]", key, f"missing: set {what} (HELPDESK_"
                          f"{key.upper().replace('.', '__')})")
