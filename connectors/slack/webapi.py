"""Calls to Slack's Web API that post messages: paced per channel, errors mapped to the
outbox's delivery errors so a rate limit or an outage delays a reply instead of losing it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain
from gateway.telemetry import Telemetry

#: Slack's errors that clear up by themselves; any other `ok: false` is permanent
#: (channel_not_found, not_in_channel, invalid_auth...).
#: https://api.slack.com/methods/chat.postMessage#errors
_TEMPORARY = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                        "request_timeout", "team_added_to_org"})


class Pacer:
    """At most about one post per second per channel, with short bursts.

    https://api.slack.com/methods/chat.postMessage#rate_limiting
    """

    def __init__(self, per_second: float = 1.0, burst: int = 4) -> None:
        self.per_second = per_second
        self.burst = burst
        self._tokens: dict[str, tuple[float, float]] = {}

    async def wait(self, channel: str) -> None:
        if self.per_second <= 0:
            return
        now = time.monotonic()
        tokens, at = self._tokens.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second) - 1
        self._tokens[channel] = (tokens, now)
        if tokens < 0:
            await asyncio.sleep(-tokens / self.per_second)


class SlackPoster:
    """`chat.postMessage`, `chat.update` and the file uploads' calls through one client,
    with `DeliveryError`s; rate-limited answers are counted in the app's
    `helpdesk_slack_rate_limited_total`."""

    def __init__(self, client: AsyncWebClient, pacer: Pacer | None = None,
                 telemetry: Telemetry | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer()
        self.telemetry = telemetry or Telemetry()

    async def post(self, **arguments: Any) -> dict[str, Any]:
        """Post; return Slack's answer (`channel`, `ts`, `message`)."""
        await self.pacer.wait(str(arguments.get("channel", "")))
        return await self._call("chat_postMessage", arguments)

    async def update(self, **arguments: Any) -> dict[str, Any]:
        return await self._call("chat_update", arguments)

    async def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Any other Web API method by its client name (`files_getUploadURLExternal`...)."""
        return await self._call(method, arguments)

    async def _call(self, method: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            if rate_limited(exc):
                self.telemetry.slack_rate_limited.labels(method.replace("_", ".")).inc()
            raise delivery_error(exc) from exc
        except aiohttp.ClientConnectorError as exc:  # never reached Slack: safe to resend
            raise DeliveryRetryLater(f"cannot connect to Slack: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The request may have reached Slack: resending could post the reply twice.
            raise DeliveryUncertain(f"Slack did not answer: {type(exc).__name__}") from exc
        return dict(response.data) if isinstance(response.data, dict) else {}


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """HTTP 429 carries `Retry-After` in seconds; 5xx and temporary errors are retried.

    https://api.slack.com/docs/rate-limits#headers
    """
    response = exc.response
    error = _error(exc)
    if rate_limited(exc):
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return DeliveryRetryLater("Slack rate limit (429)", _seconds(raw))
    if response.status_code >= 500 or error in _TEMPORARY:
        return DeliveryRetryLater(f"Slack error {response.status_code} {error}".strip())
    return DeliveryError(f"Slack refused the message: {error or response.status_code}")


def rate_limited(exc: SlackApiError) -> bool:
    """Slack said slow down: HTTP 429, or `ratelimited` in the body."""
    return exc.response.status_code == 429 or _error(exc) == "ratelimited"


def _error(exc: SlackApiError) -> str:
    response = exc.response
    return str(response.get("error", "")) if isinstance(response.data, dict) else ""


def _seconds(raw: Any) -> float | None:
    try:
        return max(float(raw), 0.0)
    except (TypeError, ValueError):
        return None
