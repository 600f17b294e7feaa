"""Typed configuration: one TOML file, `HELPDESK_SECTION__KEY` overrides, validated once.

Every problem becomes a `ConfigError` naming the file, the dotted key and what was expected,
so a start-up with a bad file stops with a message an admin can act on. Secrets (API keys,
passwords, tokens) belong in the environment, never in committed files.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from gateway import passwords
from gateway.config.base import Section
from gateway.config.channels import ApiSettings, EmailSettings, SlackSettings
from gateway.config.csat import CsatSettings
from gateway.config.integrations import BackOfficeSettings, check_names
from gateway.config.macros import Macros
from gateway.config.policy import CalendarSettings, PrioritySettings, SlaSettings, policy_problems
from gateway.config.web import WebChatSettings
from gateway.errors import ConfigError
from gateway.texts import problems as text_problems
from knowledge_base import multilingual, semantic
from knowledge_base.model import LANGUAGES

ENV_PREFIX = "HELPDESK_"




class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    #: Base URL people use to reach the gateway (links in Slack posts and mails).
    public_url: str = "http://127.0.0.1:8080"
    #: Origins allowed to open the web chat WebSocket; empty means "same host only".
    chat_origins: tuple[str, ...] = ()
    #: Seconds given to in-flight work (outbox) at shutdown.
    shutdown_grace: float = Field(10.0, ge=0)


class DatabaseSettings(Section):
    #: `sqlite:PATH` (relative to the config file) or a `postgresql://` DSN.
    url: str = "sqlite:../var/helpdesk.db"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql://", "postgres://")):
            raise ValueError("expected 'sqlite:PATH' or a 'postgresql://' DSN")
        return value


class CompanySettings(Section):
    name: str = "Helpdesk"
    email: str = ""
    phone: str = ""


class ThresholdSettings(Section):
    answer: float | None = Field(None, ge=0, le=1)
    clarify: float | None = Field(None, ge=0, le=1)
    clarify_margin: float | None = Field(None, ge=0, le=1)


class KnowledgeBaseSettings(Section):
    path: Path = Path("kb")
    #: Seconds between checks of the KB directory for edits (hot reload).
    reload_interval: float = Field(1.0, gt=0)
    #: Add MiniLM sentence embeddings to the matcher (needs helpdesk-gateway[semantic]).
    semantic: bool = False
    #: Add EN/FR/NL/DE sentence embeddings, so an article written in one language answers
    #: the others (needs helpdesk-gateway[multilingual]).
    multilingual: bool = False
    #: Lower the confidence of an article that leaves a foreign thing of the question
    #: ("gmail", "barbecue") or most of its words unexplained (docs/knowledge-base.md).
    scope_check: bool = True
    thresholds: ThresholdSettings = ThresholdSettings()

    @field_validator("semantic")
    @classmethod
    def _extra_installed(cls, value: bool) -> bool:
        # Said at start-up, not at the first KB load in a background thread.
        if value and not semantic.available():
            raise ValueError(f"needs the optional extra: {semantic.INSTALL}")
        return value

    @field_validator("multilingual")
    @classmethod
    def _multilingual_installed(cls, value: bool) -> bool:
        if value and not multilingual.available():
            raise ValueError(f"needs the optional extra: {multilingual.INSTALL}")
        return value


class TemplateSettings(Section):
    #: Directory of notification templates (*.yaml, like KB articles; docs/outbound.md).
    path: Path = Path("templates")


class LanguageSettings(Section):
    default: str = "en"
    supported: tuple[str, ...] = LANGUAGES
    #: How messages' languages are told apart: "accurate" reads every n-gram model of
    #: lingua (128 MB resident for four languages), "light" its trigrams only (about 14 MB);
    #: both add a function words' prior, with which light is 0.1 points less accurate on
    #: the KBs' short questions and 1.3-1.6 on held-out customer messages
    #: (docs/benchmarks.md#memory). Either way only the supported languages' models load.
    detection: Literal["accurate", "light"] = "accurate"

    @field_validator("default")
    @classmethod
    def _known_default(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"expected one of {', '.join(LANGUAGES)}")
        return value



class AdminSettings(Section):
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


class LoginSettings(Section):
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


class ConsoleSettings(Section):
    session_idle_minutes: int = Field(120, ge=1)
    #: A session ends this long after its login, however active (the idle limit aside).
    session_max_hours: float = Field(12.0, gt=0)
    #: Set the Secure flag on the session cookie and send HSTS on every response (turn on
    #: behind HTTPS).
    secure_cookies: bool = False
    admin: AdminSettings = AdminSettings()
    login: LoginSettings = LoginSettings()
    macros: Macros = ()
    #: Files operators send with a reply (docs/console.md, "Sending files"): each at most
    #: `attachment_max_bytes`, together at most `attachment_total_bytes`, at most
    #: `attachment_max_files`, of these types told by their first bytes.
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    attachment_total_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    attachment_max_files: int = Field(5, ge=1, le=20)
    attachment_types: tuple[Literal["image/jpeg", "image/png", "image/gif", "image/webp",
                                    "application/pdf"], ...] = (
        "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")


class OutboxSettings(Section):
    poll_interval: float = Field(0.5, gt=0)
    #: A reply that cannot be delivered is retried this long (from its creation or an
    #: operator's re-drive), then marked `failed` with an alert; it can be re-driven.
    retry_for_seconds: float = Field(86400.0, gt=0)
    #: First retry delay in seconds; doubles on each attempt up to `max_backoff`.
    backoff: float = Field(2.0, gt=0)
    max_backoff: float = Field(300.0, gt=0)
    #: How long one attempt holds its entry against other workers and replicas, and so how
    #: soon a reply whose worker died is sent again. The worker renews it every third of it
    #: while a send runs (each channel bounds its own sends: SMTP 20 s before DATA plus 30 s
    #: for DATA), and the entry is marked sent the moment the channel accepted it, so
    #: neither a slow send nor an expired lease resends a delivered reply.
    lease_seconds: float = Field(60.0, gt=0)
    #: Conversations sent at once, each in its own order: a slow channel or mail server
    #: holds back its own conversations only, up to this many.
    max_parallel: int = Field(8, ge=1, le=256)


class QueueSettings(Section):
    name: str
    languages: tuple[str, ...] = LANGUAGES
    #: Skills an operator needs to be assigned this queue's tickets automatically.
    skills: tuple[str, ...] = ()


class TicketSettings(Section):
    #: Outcome codes an operator picks when closing a ticket (the wrap-up of the contact).
    outcome_codes: tuple[str, ...] = ("answered", "order-taken", "appointment-made",
                                      "forwarded", "no-reply-from-customer", "duplicate")


class CustomerSettings(Section):
    #: CSV export of the customer file (columns number and postal_code; others ignored). With
    #: it, the bot verifies customers itself before answering an article marked
    #: `requires_verification`; without it, those questions go to an operator.
    directory: Path | None = None
    #: Wrong number/postal code pairs in a conversation before it goes to an operator.
    verification_attempts: int = Field(2, ge=1, le=5)


class RetentionSettings(Section):
    """How long personal data is kept (GDPR storage limitation); 0 keeps it."""

    #: Days after a conversation's last activity (and its ticket's) before what was said in
    #: it is erased: message texts, attachments, ticket subjects and notes. A conversation
    #: with an unclosed ticket is kept. A customer with nothing newer is erased entirely.
    conversations_days: int = Field(0, ge=0)
    #: Days a quarantined mail's raw bytes are kept when nobody reprocesses it.
    quarantine_days: int = Field(0, ge=0)
    #: Days an operator's notification is kept once read (0 keeps them): they quote notes
    #: and customers' messages, and an operator reads a handful a day for years.
    notifications_read_days: int = Field(30, ge=0)
    #: Unread notifications kept per operator, the newest (0: no cap): an operator who never
    #: opens the page (or left) does not collect them for ever.
    notifications_unread_max: int = Field(500, ge=0)
    #: Seconds between two purges.
    check_interval: float = Field(3600.0, gt=0)


class LoggingSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class MetricsSettings(Section):
    #: Bearer token for GET /metrics from other hosts (HELPDESK_METRICS__TOKEN); empty: only
    #: a probe on the machine itself may scrape.
    token: SecretStr = SecretStr("")


class Settings(Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    company: CompanySettings = CompanySettings()
    knowledge_base: KnowledgeBaseSettings = KnowledgeBaseSettings()
    templates: TemplateSettings = TemplateSettings()
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
    csat: CsatSettings = CsatSettings()
    #: name → back-office HTTP API the KB's actions call (docs/integrations.md).
    integrations: dict[str, BackOfficeSettings] = Field(default_factory=dict)
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
    metrics: MetricsSettings = MetricsSettings()
    #: Directory relative paths are resolved against (the config file's directory).
    base_dir: Path = Path(".")

    @field_validator("integrations")
    @classmethod
    def _integration_names(cls, value: dict[str, BackOfficeSettings]
                           ) -> dict[str, BackOfficeSettings]:
        return check_names(value)

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
