"""Typed `[api]`, `[email]` and `[slack]` configuration: how each channel reaches its
server and who may use it. Part of `Settings` (gateway/config/settings.py)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from gateway.config.base import Section
from knowledge_base.model import LANGUAGES

#: An integration's name: it prefixes what it owns, so it never contains ":".
INTEGRATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class IntegrationSettings(Section):
    """One client of the REST API (a CRM, a mobile app): its key and what it may do."""

    #: Bearer key; set it with HELPDESK_API__INTEGRATIONS__<NAME>__KEY.
    key: SecretStr
    #: Trust the e-mail addresses it sends: link its customers to the customer who has that
    #: address on another channel. Off: its customers stay apart (an operator can merge).
    link_by_email: bool = False

    @field_validator("key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        # a blank key must never be one that a missing or empty header matches
        if not value.get_secret_value().strip():
            raise ValueError("an empty key is no secret: set a long random value")
        return SecretStr(value.get_secret_value().strip())


class ApiSettings(Section):
    #: name → integration. Each key is an integration that owns the customers and
    #: conversations created with it; other keys get 404 on them.
    integrations: dict[str, IntegrationSettings] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _keys_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "keys" in data:
            raise ValueError("api.keys is replaced by one [api.integrations.NAME] table per"
                             " client, with key = ... (HELPDESK_API__INTEGRATIONS__NAME__KEY):"
                             " each key now owns its conversations; see docs/security.md")
        return data

    @field_validator("integrations")
    @classmethod
    def _distinct(cls, value: dict[str, IntegrationSettings]) -> dict[str, IntegrationSettings]:
        for name in value:
            if not INTEGRATION_NAME.match(name):
                raise ValueError(f"integration name {name!r}: use a-z, 0-9, '-' and '_'")
        keys = [i.key.get_secret_value() for i in value.values()]
        if len(set(keys)) != len(keys):
            raise ValueError("two integrations share a key: give each its own")
        return value


def console_language(value: str) -> str:
    """A language the console's catalogues speak, or empty for the desk's default."""
    if value and value not in LANGUAGES:
        raise ValueError(f"expected one of {', '.join(LANGUAGES)}, or empty")
    return value


class EmailSettings(Section):
    """The mailbox customers write to (IMAP in) and the server replies leave through (SMTP)."""

    enabled: bool = False
    #: Support address replies come from, and its display name.
    address: str = "support@example.com"
    display_name: str = "Support"
    imap_host: str = "127.0.0.1"
    imap_port: int = Field(993, ge=1, le=65535)
    #: aioimaplib speaks implicit TLS or plain IMAP (no STARTTLS).
    imap_security: Literal["tls", "plain"] = "tls"
    imap_user: str = ""
    #: Set with HELPDESK_EMAIL__IMAP_PASSWORD.
    imap_password: SecretStr = SecretStr("")
    mailbox: str = "INBOX"
    #: After a mail is committed: flag it \Seen, or move it to `processed_mailbox`.
    after_ingest: Literal["seen", "move"] = "seen"
    processed_mailbox: str = "Processed"
    #: Use IMAP IDLE when the server offers it; poll every `poll_interval` seconds otherwise.
    idle: bool = True
    poll_interval: float = Field(30.0, gt=0)
    #: Replicas on one database take turns on the mailbox: the one reading it renews a
    #: lease every third of this; when it dies another takes over within this much more.
    lease_seconds: float = Field(30.0, ge=3)
    #: The channel is not ok in /readyz (state `behind`, or `stuck` when nothing is being
    #: taken in) once a mail has waited this long to be taken in (docs/email.md, health).
    max_waiting_seconds: float = Field(300.0, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["tls", "starttls", "plain"] = "starttls"
    smtp_user: str = ""
    #: Set with HELPDESK_EMAIL__SMTP_PASSWORD.
    smtp_password: SecretStr = SecretStr("")
    #: Attachments above this size are recorded as "too large" (the mail is still ingested).
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=0)
    #: At most this many automatic (bot) replies per correspondent per hour (RFC 3834 loops).
    auto_replies_per_hour: int = Field(5, ge=0)
    #: Addresses that receive SLA warnings and breaches (e.g. the supervisors' list).
    escalate_to: tuple[str, ...] = ()
    #: Language of those mails (one of the console's: en, fr, nl, de); empty =
    #: `[languages] default`.
    escalate_language: str = ""

    @field_validator("escalate_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return console_language(value)


class SlackSettings(Section):
    """A Slack app: customers write to it; optionally operators work tickets in a channel."""

    enabled: bool = False
    #: "http": Events API posted to /slack/events; "socket": Socket Mode (no public URL).
    mode: Literal["http", "socket"] = "http"
    #: Set with HELPDESK_SLACK__BOT_TOKEN (xoxb-...).
    bot_token: SecretStr = SecretStr("")
    #: Set with HELPDESK_SLACK__SIGNING_SECRET (HTTP mode).
    signing_secret: SecretStr = SecretStr("")
    #: Set with HELPDESK_SLACK__APP_TOKEN (xapp-..., Socket Mode).
    app_token: SecretStr = SecretStr("")
    #: Channel id where new tickets are posted for operators; empty = no operator channel.
    operators_channel: str = ""
    #: Language of the ticket cards in `operators_channel` (one of the console's: en, fr,
    #: nl, de); empty = `[languages] default`.
    operator_language: str = ""
    #: Slack Web API base URL (tests point it at a local fake server).
    api_url: str = "https://slack.com/api/"
    #: Slack user id → operator username, for operators whose Slack e-mail address is not
    #: their console username (otherwise they are matched by e-mail).
    operators: dict[str, str] = Field(default_factory=dict)

    @field_validator("operator_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return console_language(value)
