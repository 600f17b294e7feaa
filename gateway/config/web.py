"""Settings of the public web side: the chat's abuse limits and who may frame the chat page.

Kept apart from gateway/config/settings.py (which includes them as `[webchat]`) so each file stays
one screenful of related keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from knowledge_base.model import LANGUAGES

#: A signing secret shorter than this is guessable offline from one signed id.
MIN_IDENTITY_SECRET = 32
#: Colours are written into the widget's theme.css: "#rgb" or "#rrggbb", nothing else.
_COLOUR = r"^#(?:[0-9a-fA-F]{3}){1,2}$"


class FollowUpSettings(BaseModel):
    """Chat replies mailed to customers who left (docs/webchat.md, "Offline follow-up")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Offer the form (after a hand-off, or out of hours) when the e-mail channel is on.
    enabled: bool = True
    #: An operator's reply the customer has not seen in the chat this long is mailed.
    after_minutes: float = Field(10.0, gt=0, le=7 * 24 * 60)
    #: The mailed link continues the chat on any device for this many days.
    link_days: int = Field(30, ge=1, le=365)
    #: The page the link opens, where your site embeds the widget; empty: the gateway's own
    #: chat page (`server.public_url`). The link adds `?hgw-continue=<token>`.
    page_url: str = Field("", max_length=500, pattern=r"^(https?://\S+)?$")
    #: How often the gateway looks for replies that are due to be mailed.
    sweep_interval: float = Field(15.0, gt=0, le=3600)


class WebChatSettings(BaseModel):
    """Limits per source address and per chat session (each gateway process counts its own)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Messages a session may send at once, then `session_per_minute` more each minute.
    session_burst: int = Field(8, ge=1)
    session_per_minute: float = Field(20.0, gt=0)
    #: The same for all sessions of one source address together (an office behind one NAT).
    address_burst: int = Field(30, ge=1)
    address_per_minute: float = Field(60.0, gt=0)
    #: New chat sessions one source address may open per minute.
    new_sessions_per_minute: int = Field(10, ge=1)
    #: Chat messages this process holds at once: taken and not yet decided (being stored,
    #: stored and waiting in the decision queue, being decided). One more is told "busy,
    #: retrying" with a `retry_after` (the widget keeps it and sends it again then)
    #: instead of waiting in an unbounded queue; a session that has one waiting already
    #: gets a place only while fewer than a quarter of this are held (a burst takes every
    #: visitor's first message before anybody's next ones).
    max_in_flight: int = Field(1000, ge=1)
    #: Take the source address from the last X-Forwarded-For entry (the one your reverse
    #: proxy added). Only behind such a proxy: otherwise a client picks its own address.
    trust_forwarded_for: bool = False
    #: Origins allowed to show the chat page (`/`) in a frame (CSP frame-ancestors), e.g.
    #: "https://www.example.be"; empty: nobody. Every other page may never be framed.
    frame_ancestors: tuple[str, ...] = ()
    #: The widget's look (docs/webchat.md, "Customisation"): header, launcher, the customer's
    #: bubbles and buttons in `accent_color`, their text in `accent_text_color`; the
    #: launcher and the chat at the bottom `position` of the page; the header's title per
    #: language (the widget's own "Support" where none is given). The greeting is
    #: `[texts.greeting]`.
    accent_color: str = Field("#0f4c5c", pattern=_COLOUR)
    accent_text_color: str = Field("#ffffff", pattern=_COLOUR)
    position: Literal["right", "left"] = "right"
    title: dict[str, str] = Field(default_factory=dict)
    #: Files customers may attach (docs/webchat.md, "Attachments"): at most this size, and
    #: of these types, told by the file's first bytes (what the browser claims is ignored).
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    attachment_types: tuple[Literal["image/jpeg", "image/png", "image/gif", "image/webp",
                                    "application/pdf"], ...] = (
        "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
    #: Signs the customer ids your site passes to the widget (HMAC-SHA256, docs/webchat.md,
    #: "Signed identity"). Set with HELPDESK_WEBCHAT__IDENTITY_SECRET; unset: no identity is
    #: accepted. At least 32 characters.
    identity_secret: SecretStr | None = None
    follow_up: FollowUpSettings = FollowUpSettings()

    @field_validator("title")
    @classmethod
    def _titles(cls, value: dict[str, str]) -> dict[str, str]:
        for language, text in value.items():
            if language not in LANGUAGES:
                raise ValueError(f"{language!r}: the languages are {', '.join(LANGUAGES)}")
            if not text.strip() or len(text) > 60:
                raise ValueError(f"{language!r}: a title of 1 to 60 characters")
        return value

    @field_validator("identity_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_IDENTITY_SECRET:
            raise ValueError(f"must be at least {MIN_IDENTITY_SECRET} characters (an empty or "
                             "short secret is guessed): set HELPDESK_WEBCHAT__IDENTITY_SECRET "
                             "to e.g. `python -c 'import secrets; print(secrets.token_urlsafe"
                             "(32))'`")
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest or " " in rest \
                    or ";" in rest:
                raise ValueError(f"{origin!r}: expected an origin like https://www.example.be")
        return value
