"""Typed `[integrations.NAME]` configuration: the company's own systems the bot calls
(order status, stock, bookings) from KB actions (docs/integrations.md).

Secrets (a bearer token, a basic-auth password) come from the environment
(`HELPDESK_INTEGRATIONS__NAME__TOKEN`); an empty one is an error at start-up, never an
unauthenticated call that fails later with a confusing 401.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from yarl import URL

from gateway.config.base import Section

#: Used in metrics labels and on tickets: short and plain.
BACKOFFICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class BackOfficeSettings(Section):
    """One back-office HTTP API: where it is, how to authenticate, how hard to try."""

    #: Off: the articles that use it hand off with "integration disabled", no call is made.
    enabled: bool = True
    #: `http(s)://host[:port][/prefix]`; action paths are appended to it, never replace it.
    base_url: str
    auth: Literal["none", "bearer", "basic"] = "none"
    #: Bearer token (HELPDESK_INTEGRATIONS__NAME__TOKEN).
    token: SecretStr | None = None
    username: str = ""
    #: Basic-auth password (HELPDESK_INTEGRATIONS__NAME__PASSWORD).
    password: SecretStr | None = None
    #: Seconds for one attempt, connection included.
    timeout: float = Field(5.0, gt=0, le=60)
    #: Extra attempts after a timeout, a connection error or a 5xx, only for calls that are
    #: safe to repeat (GET, or a POST carrying an idempotency key).
    retries: int = Field(2, ge=0, le=5)
    #: Seconds before the first retry; doubles on each one.
    backoff: float = Field(0.2, ge=0, le=10)
    #: Consecutive failed calls after which the circuit opens ...
    breaker_failures: int = Field(5, ge=1, le=100)
    #: ... and no call is made for this many seconds (the bot hands off with the reason).
    breaker_seconds: float = Field(30.0, gt=0, le=3600)
    #: A larger response body is refused (the bot hands off) rather than read.
    max_response_bytes: int = Field(65536, ge=256, le=10_000_000)
    #: Slots and response fields whose names contain one of these words are shown on the
    #: ticket as "•••" (and stored so): what the bot looked up, not the customer's details.
    mask: tuple[str, ...] = ("name", "email", "mail", "phone", "mobile", "address", "street",
                             "postal", "zip", "iban", "birth", "password", "token")

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        url = URL(value)
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("expected an absolute http:// or https:// URL")
        if url.query_string or url.fragment or url.user or url.password:
            raise ValueError("no query, fragment or credentials in base_url (use auth)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secrets_present(self) -> BackOfficeSettings:
        if self.auth == "bearer" and not _secret(self.token):
            raise ValueError("auth = 'bearer' needs a token: set "
                             "HELPDESK_INTEGRATIONS__<NAME>__TOKEN in the environment")
        if self.auth == "basic" and (not self.username or not _secret(self.password)):
            raise ValueError("auth = 'basic' needs username and a password: set "
                             "HELPDESK_INTEGRATIONS__<NAME>__PASSWORD in the environment")
        return self


def _secret(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())


def check_names(integrations: dict[str, BackOfficeSettings]) -> dict[str, BackOfficeSettings]:
    for name in integrations:
        if not BACKOFFICE_NAME.match(name):
            raise ValueError(f"integration name {name!r}: use a-z, 0-9, '-' and '_'")
    return integrations
