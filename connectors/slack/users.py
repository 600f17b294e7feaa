"""Who a Slack user is: `users.info` gives the name and, with the `users:read.email` scope,
the email address that links a Slack customer to the same person writing by email, and a
Slack operator to their gateway account. Cached per user, because every message needs it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str = ""
    email: str | None = None
    is_bot: bool = False


class Directory:
    """`users.info` with a time-limited cache; a failed lookup degrades to the bare user id.

    https://api.slack.com/methods/users.info (email needs `users:read.email`)
    """

    def __init__(self, client: AsyncWebClient, ttl: float = 3600.0, timeout: float = 1.0,
                 max_entries: int = 10_000) -> None:
        self.client = client
        self.ttl = ttl
        #: Lookups run before Slack's 3-second ack deadline, so they get a short budget.
        self.timeout = timeout
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, SlackUser]] = {}

    async def lookup(self, user_id: str) -> SlackUser:
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:  # e.g. missing_scope: asking again will not help soon
            log.warning("slack.users_info_refused", error=exc.response.get("error"))
            return self._remember(SlackUser(user_id))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack.users_info_failed", error=type(exc).__name__)
            return SlackUser(user_id)
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        return self._remember(SlackUser(
            id=user_id,
            name=str(profile.get("real_name") or user.get("real_name")
                     or profile.get("display_name") or user.get("name") or ""),
            email=(str(profile["email"]).lower() if profile.get("email") else None),
            is_bot=bool(user.get("is_bot")),
        ))

    def _remember(self, user: SlackUser) -> SlackUser:
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[user.id] = (time.monotonic() + self.ttl, user)
        return user
