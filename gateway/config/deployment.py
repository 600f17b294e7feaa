"""The start-up check that keeps the demo's secrets off the network.

`make run` serves the demo on loopback with a published console password and API key; that
is fine for one person's machine. Listening on any other address with one of those secrets,
or with no API key at all, is a deployment nobody meant: the gateway refuses to start and
says which environment variable to set (docs/security.md, "Deploying safely").
"""

from __future__ import annotations

import ipaddress

from gateway.config.settings import Settings

#: Secrets published in this repository (config/gateway.toml, README, docs, tests).
DEMO_PASSWORDS = frozenset({"velora-demo", "velora-demo-admin"})
DEMO_API_KEYS = frozenset({"demo-api-key", "test-api-key"})
#: The example signing secret of Slack's own documentation (and of our tests), and the
#: test tokens: anyone can forge requests with them.
DEMO_SLACK = frozenset({"8f742231b10e8888abcd99yyyzzz85a5", "xoxb-test", "xapp-1"})
#: The web chat identity secrets of docs/webchat.md's example and of the tests.
DEMO_IDENTITY = frozenset({"example-identity-secret-from-the-docs-0123",
                           "test-identity-secret-of-at-least-32-chars"})
#: The survey-link secret of the tests (docs/reports.md shows none).
DEMO_CSAT = frozenset({"a-test-csat-secret-of-at-least-32-characters"})


def is_loopback(host: str) -> bool:
    """True when only this machine can connect: localhost, 127.0.0.0/8 or ::1."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or "": it may resolve to, or mean, every interface


def demo_login(settings: Settings) -> str | None:
    """"username / password" when the console's admin password is the demo's published one
    (`make run`), for the start-up banner; None otherwise, so a real password is never
    printed."""
    admin = settings.console.admin
    if admin.password is None or admin.password.get_secret_value() not in DEMO_PASSWORDS:
        return None
    return f"{admin.username} / {admin.password.get_secret_value()}"


def problems(settings: Settings, host: str) -> list[str]:
    """What makes serving `settings` on `host` unsafe, each naming the variable to set."""
    if is_loopback(host):
        return []
    found = []
    admin = settings.console.admin.password
    if admin is not None and admin.get_secret_value() in DEMO_PASSWORDS:
        found.append("console.admin.password is the demo's published password: set "
                     "HELPDESK_CONSOLE__ADMIN__PASSWORD to a password of your own")
    integrations = settings.api.integrations
    if not integrations:
        found.append("api.integrations is empty: declare one with HELPDESK_API__INTEGRATIONS__"
                     "<NAME>__KEY set to a long random key (e.g. `python -c 'import secrets; "
                     "print(secrets.token_urlsafe(32))'`)")
    for name, integration in integrations.items():
        if integration.key.get_secret_value() in DEMO_API_KEYS:
            found.append(f"api.integrations.{name}.key is the demo's published key: set "
                         f"HELPDESK_API__INTEGRATIONS__{name.upper()}__KEY to a key of your own")
    identity = settings.webchat.identity_secret
    if identity is not None and identity.get_secret_value() in DEMO_IDENTITY:
        found.append("webchat.identity_secret is the demo's published secret: set "
                     "HELPDESK_WEBCHAT__IDENTITY_SECRET to a secret of your own")
    csat = settings.csat.secret
    if csat is not None and csat.get_secret_value() in DEMO_CSAT:
        found.append("csat.secret is a published example: set HELPDESK_CSAT__SECRET to a "
                     "secret of your own")
    slack = settings.slack
    for key, value in (("signing_secret", slack.signing_secret), ("bot_token", slack.bot_token),
                       ("app_token", slack.app_token)):
        if value.get_secret_value() in DEMO_SLACK:
            found.append(f"slack.{key} is a published example: set "
                         f"HELPDESK_SLACK__{key.upper()} to your Slack app's own")
    return found
