"""Typed configuration: one TOML file, `HELPDESK_SECTION__KEY` overrides, validated once.

Every problem becomes a `ConfigError` naming the file, the dotted key and what was expected,
so a start-up with a bad file stops with a message an admin can act on. Secrets (API keys,
passwords, tokens) belong in the environment, never in committed files.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway import passwords
from gateway.errors import ConfigError
from gateway.macro_settings import Macros
from gateway.policy_settings import CalendarSettings, PrioritySettings, SlaSettings, policy_problems
from gateway.texts import problems as text_problems
from gateway.web_settings import WebChatSettings
from knowledge_base import semantic
from knowledge_base.model import LANGUAGES

ENV_PREFIX = "HELPDESK_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    #: Base URL people use to reach the gateway (links in Slack posts and mails).
    public_url: str = "http://127.0.0.1:8080"
    #: Origins allowed to open the web chat WebSocket; empty means "same host only".
    chat_origins: tuple[str, ...] = ()
    #: Seconds given to in-flight work (outbox) at shutdown.
    shutdown_grace: float = Field(10.0, ge=0)


class DatabaseSettings(_Section):
    #: `sqlite:PATH` (relative to the config file) or a `postgresql://` DSN.
    url: str = "sqlite:../var/helpdesk.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql://", "postgres://")):
            raise ValueError("expected 'sqlite:PATH' or a 'postgresql://' DSN")
        return value


class CompanySettings(_Section):
    name: str = "Helpdesk"
    email: str = ""
    phone: str = ""


class ThresholdSettings(_Section):
    answer: float | None = Field(None, ge=0, le=1)
    clarify: float | None = Field(None, ge=0, le=1)
    clarify_margin: float | None = Field(None, ge=0, le=1)


class KnowledgeBaseSettings(_Section):
    path: Path = Path("kb")
    #: Seconds between checks of the KB directory for edits (hot reload).
    reload_interval: float = Field(1.0, gt=0)
    #: Add MiniLM sentence embeddings to the matcher (needs helpdesk-gateway[semantic]).
    semantic: bool = False
    thresholds: ThresholdSettings = ThresholdSettings()

    @field_validator("semantic")
    @classmethod
    def _extra_installed(cls, value: bool) -> bool:
        # Said at start-up, not at the first KB load in a background thread.
        if value and not semantic.available():
            raise ValueError(f"needs the optional extra: {semantic.INSTALL}")
        return value


class LanguageSettings(_Section):
    default: str = "en"
    supported: tuple[str, ...] = LANGUAGES

    @field_validator("default")
    @classmethod
    def _known_default(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"expected one of {', '.join(LANGUAGES)}")
        return value


#: An integration's name: it prefixes what it owns, so it never contains ":".
INTEGRATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class IntegrationSettings(_Section):
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


class ApiSettings(_Section):
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


class AdminSettings(_Section):
    username: str = "admin"
    #: Set with HELPDESK_CONSOLE__ADMIN__PASSWORD; no admin is created without one. It
    #: obeys the operators' password policy (gateway/passwords.py); an empty one is an error.
    password: SecretStr | None = None

    @field_validator("password")
    @classmethod
    def _policy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            refused = passwords.problem(value.get_secret_value())
            if refused:
                raise ValueError(f"{refused} (HELPDESK_CONSOLE__ADMIN__PASSWORD)")
        return value


class LoginSettings(_Section):
    """Console login throttling, per account and per source address (docs/security.md)."""

    #: Failed logins of one account (within `lockout_minutes` of each other) that lock it out.
    max_failures: int = Field(10, ge=1)
    #: Failed logins from one source address, whatever the accounts, that lock it out.
    max_failures_per_address: int = Field(30, ge=1)
    lockout_minutes: float = Field(15.0, gt=0)
    #: An account's failures after which each attempt waits `delay_seconds`, doubling.
    delay_after: int = Field(3, ge=0)
    delay_seconds: float = Field(1.0, ge=0)
    max_delay_seconds: float = Field(60.0, ge=0)


class ConsoleSettings(_Section):
    session_idle_minutes: int = Field(120, ge=1)
    #: A session ends this long after its login, however active (the idle limit aside).
    session_max_hours: float = Field(12.0, gt=0)
    #: Set the Secure flag on the session cookie and send HSTS on every response (turn on
    #: behind HTTPS).
    secure_cookies: bool = False
    admin: AdminSettings = AdminSettings()
    login: LoginSettings = LoginSettings()
    macros: Macros = ()


class OutboxSettings(_Section):
    poll_interval: float = Field(0.5, gt=0)
    #: A reply that cannot be delivered is retried this long (from its creation or an
    #: operator's re-drive), then marked `failed` with an alert; it can be re-driven.
    retry_for_seconds: float = Field(86400.0, gt=0)
    #: First retry delay in seconds; doubles on each attempt up to `max_backoff`.
    backoff: float = Field(2.0, gt=0)
    max_backoff: float = Field(300.0, gt=0)
    #: How long one attempt holds its entry against other workers and replicas, and so how
    #: soon a reply whose worker died is sent again. It must outlast one send (an SMTP
    #: attempt is bounded to 20 s before DATA plus 30 s for DATA), and the entry is marked
    #: sent the moment the channel accepted it, so an expired lease never resends a
    #: delivered reply.
    lease_seconds: float = Field(60.0, gt=0)


class QueueSettings(_Section):
    name: str
    languages: tuple[str, ...] = LANGUAGES
    #: Skills an operator needs to be assigned this queue's tickets automatically.
    skills: tuple[str, ...] = ()


class EmailSettings(_Section):
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


class SlackSettings(_Section):
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
    #: Slack Web API base URL (tests point it at a local fake server).
    api_url: str = "https://slack.com/api/"
    #: Slack user id → operator username, for operators whose Slack e-mail address is not
    #: their console username (otherwise they are matched by e-mail).
    operators: dict[str, str] = Field(default_factory=dict)


class TicketSettings(_Section):
    #: Outcome codes an operator picks when closing a ticket (the wrap-up of the contact).
    outcome_codes: tuple[str, ...] = ("answered", "order-taken", "appointment-made",
                                      "forwarded", "no-reply-from-customer", "duplicate")


class CustomerSettings(_Section):
    #: CSV export of the customer file (columns number and postal_code; others ignored). With
    #: it, the bot verifies customers itself before answering an article marked
    #: `requires_verification`; without it, those questions go to an operator.
    directory: Path | None = None
    #: Wrong number/postal code pairs in a conversation before it goes to an operator.
    verification_attempts: int = Field(2, ge=1, le=5)


class RetentionSettings(_Section):
    """How long personal data is kept (GDPR storage limitation); 0 keeps it."""

    #: Days after a conversation's last activity (and its ticket's) before what was said in
    #: it is erased: message texts, attachments, ticket subjects and notes. A conversation
    #: with an unclosed ticket is kept. A customer with nothing newer is erased entirely.
    conversations_days: int = Field(0, ge=0)
    #: Days a quarantined mail's raw bytes are kept when nobody reprocesses it.
    quarantine_days: int = Field(0, ge=0)
    #: Seconds between two purges.
    check_interval: float = Field(3600.0, gt=0)


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    company: CompanySettings = CompanySettings()
    knowledge_base: KnowledgeBaseSettings = KnowledgeBaseSettings()
    languages: LanguageSettings = LanguageSettings()
    api: ApiSettings = ApiSettings()
    webchat: WebChatSettings = WebChatSettings()
    console: ConsoleSettings = ConsoleSettings()
    outbox: OutboxSettings = OutboxSettings()
    tickets: TicketSettings = TicketSettings()
    calendar: CalendarSettings = CalendarSettings()
    sla: SlaSettings = SlaSettings()
    priority: PrioritySettings = PrioritySettings()
    email: EmailSettings = EmailSettings()
    slack: SlackSettings = SlackSettings()
    customers: CustomerSettings = CustomerSettings()
    retention: RetentionSettings = RetentionSettings()
    #: The bot's own sentences in the organisation's words: name → language → text
    #: (the names, defaults and placeholders are in gateway/texts.py).
    texts: dict[str, dict[str, str]] = Field(default_factory=dict)
    queues: tuple[QueueSettings, ...] = (QueueSettings(name="general"),)
    #: Queue that receives hand-offs whose article names no queue.
    default_queue: str = "general"
    #: Purpose category (order, sales, information, assistance, complaint) → queue, for
    #: hand-offs whose article names no queue of its own.
    category_queues: dict[str, str] = Field(default_factory=dict)
    logging: LoggingSettings = LoggingSettings()
    #: Directory relative paths are resolved against (the config file's directory).
    base_dir: Path = Path(".")

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def kb_path(self) -> Path:
        return self.resolve(self.knowledge_base.path)

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made absolute."""
        url = self.database.url
        if url.startswith("sqlite:"):
            path = url.removeprefix("sqlite:")
            return "sqlite:" + (path if path == ":memory:" else str(self.resolve(Path(path))))
        return url


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`HELPDESK_LANGUAGES__SUPPORTED=en,fr` becomes {"languages": {"supported": ["en", "fr"]}};
    JSON values are parsed."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = name.removeprefix(ENV_PREFIX).lower().split("__")
        value: Any
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw.split(",") if path[-1] in {"keys", "supported", "chat_origins",
                                                      "frame_ancestors"} else raw
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge with the environment and validate; raise `ConfigError` on the first problem."""
    environ = os.environ if environ is None else environ
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    data = _merge(data, _env_overrides(environ))
    data["base_dir"] = path.resolve().parent
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(str(path), key, first["msg"]) from None
    queue_names = {queue.name for queue in settings.queues}
    if settings.default_queue not in queue_names:
        raise ConfigError(str(path), "default_queue", f"no queue named {settings.default_queue!r}")
    for category, queue in settings.category_queues.items():
        if queue not in queue_names:
            raise ConfigError(str(path), f"category_queues.{category}", f"no queue named {queue!r}")
    for key, problem in policy_problems(settings.sla, settings.priority):
        raise ConfigError(str(path), key, problem)
    unknown = sorted(set(settings.calendar.queues) - queue_names)
    if unknown:
        raise ConfigError(str(path), "calendar.queues", f"no queue named {unknown[0]!r}")
    for key, problem in text_problems(settings.texts):
        raise ConfigError(str(path), key, problem)
    if settings.customers.directory is not None:
        from gateway.directory import read_directory  # a bad file stops the start, clearly

        try:
            read_directory(settings.resolve(settings.customers.directory))
        except (OSError, ValueError) as exc:
            raise ConfigError(str(path), "customers.directory", str(exc)) from None
    return settings
