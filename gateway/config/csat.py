"""`[csat]`: the satisfaction survey sent after a ticket is solved (docs/reports.md,
"Customer satisfaction (CSAT)"). Off unless `enabled`; each channel can be turned off."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from gateway.config.base import Section

#: A signing secret shorter than this is guessable offline from one signed link.
MIN_SECRET = 32


class CsatChannels(Section):
    """Which channels get the survey (a channel not listed here never does: phone)."""

    webchat: bool = True
    email: bool = True
    slack: bool = True
    api: bool = True


class CsatSettings(Section):
    enabled: bool = False
    #: Minutes after the ticket is solved before the survey goes out (a quick "thanks,
    #: one more thing" reopening the ticket in between cancels it).
    delay_minutes: float = Field(60.0, ge=0)
    channels: CsatChannels = CsatChannels()
    #: A customer gets at most one survey in this many days, whatever the tickets.
    quiet_days: float = Field(30.0, ge=0)
    #: Days a survey link (its signed token) can be answered.
    valid_days: float = Field(14.0, gt=0)
    #: A score at or below this (of 5) is a bad one: it reopens the ticket and/or tells
    #: the supervisors, as set below.
    bad_score: int = Field(2, ge=1, le=5)
    reopen_on_bad_score: bool = False
    notify_on_bad_score: bool = True
    #: Signs the survey links (HMAC-SHA256). Set with HELPDESK_CSAT__SECRET; unset: the
    #: gateway draws a random secret once and keeps it in the database (all replicas
    #: share it). At least 32 characters.
    secret: SecretStr | None = None
    #: Seconds between two sweeps for due surveys, and surveys sent per sweep at most.
    sweep_interval: float = Field(30.0, gt=0)
    sweep_batch: int = Field(50, ge=1, le=1000)

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET:
            raise ValueError(f"must be at least {MIN_SECRET} characters (an empty or short "
                             "secret is guessed): set HELPDESK_CSAT__SECRET to e.g. `python -c"
                             " 'import secrets; print(secrets.token_urlsafe(32))'`")
        return value

    def on(self, channel: str) -> bool:
        """Whether surveys go out on `channel`."""
        return self.enabled and bool(getattr(self.channels, channel, False))
