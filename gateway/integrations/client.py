"""One HTTP client for every `[integrations.NAME]`: the only place the bot reaches the
company's own systems.

Each call is bounded (timeout, response size), retried with backoff only when repeating it
is safe (GET, or a POST carrying an `Idempotency-Key`, draft-ietf-httpapi-idempotency-key-
header), and stopped by a circuit breaker while the back office keeps failing. Values go
into the URL percent-encoded, one path segment each: a customer's "x/../admin" or
"@evil.example" can never change the host or the path an admin wrote. Logs name the
integration, method, path *template*, status and duration, never the values (order
numbers, postal codes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog
from yarl import URL

from gateway.config.integrations import BackOfficeSettings
from gateway.errors import (
    IntegrationBadResponse,
    IntegrationCircuitOpen,
    IntegrationError,
    IntegrationStatus,
    IntegrationTimeout,
)
from gateway.integrations.breaker import CircuitBreaker

log = structlog.get_logger(__name__)

#: `{name}` in a path or query template: a slot or a value the bot knows.
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class Call:
    """What an action asks of an integration; templates are filled here, not by callers."""

    method: str
    path: str
    values: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] | None = None
    #: Makes a POST safe to repeat: the back office books once per key.
    idempotency_key: str | None = None

    @property
    def repeatable(self) -> bool:
        return self.method in _SAFE_METHODS or self.idempotency_key is not None


@dataclass(frozen=True)
class Response:
    """A back-office answer below 500 (a 404 is an answer: "no such order")."""

    status: int
    data: Any
    attempts: int
    seconds: float


def fill(template: str, values: Mapping[str, str], *, segment: bool) -> str:
    """`template` with each `{name}` replaced; in a path each value is one encoded segment."""
    def value(match: re.Match[str]) -> str:
        text = values[match.group(1)]  # KeyError: lint catches a slot used but not declared
        if not segment:
            return text
        if text in {".", ".."}:
            raise ValueError("a path value cannot be '.' or '..'")
        return quote(text, safe="")

    return PLACEHOLDER.sub(value, template)


def build_url(base_url: str, call: Call) -> URL:
    """The call's URL under `base_url`, or ValueError when it would leave it."""
    if not call.path.startswith("/") or call.path.startswith("//") or "?" in call.path \
            or "#" in call.path:
        raise ValueError("the path template must start with one '/' and hold no query")
    base = URL(base_url)
    url = URL(base_url + fill(call.path, call.values, segment=True), encoded=True)
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) \
            or not url.raw_path.startswith(base.raw_path.rstrip("/") + "/"):
        raise ValueError("the call would leave the integration's base URL")
    query = {key: fill(template, call.values, segment=False)
             for key, template in call.query.items()}
    return url.with_query(query) if query else url


class Integrations:
    """The configured integrations, their breakers and their call figures (for /metrics)."""

    def __init__(self, settings: Mapping[str, BackOfficeSettings],
                 clock: Any = time.monotonic) -> None:
        self.settings = dict(settings)
        self.breakers = {name: CircuitBreaker(s.breaker_failures, s.breaker_seconds, clock)
                         for name, s in self.settings.items()}
        #: (integration, outcome) → calls since start; outcome as in `_outcome`.
        self.calls: Counter[tuple[str, str]] = Counter()
        #: integration → (seconds spent in calls, calls timed)
        self.latency: dict[str, tuple[float, int]] = {}
        self._session: aiohttp.ClientSession | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Integrations]:
        """One connection pool while the gateway runs."""
        self._session = aiohttp.ClientSession(raise_for_status=False)
        try:
            yield self
        finally:
            await self._session.close()
            self._session = None

    async def call(self, name: str, call: Call) -> Response:
        """The back office's answer (status < 500), or an `IntegrationError` saying why not."""
        settings = self.settings.get(name)
        if settings is None or not settings.enabled:
            raise IntegrationBadResponse(name, "integration not configured or disabled")
        try:
            url = build_url(settings.base_url, call)
        except (KeyError, ValueError) as exc:
            raise IntegrationBadResponse(name, f"cannot build the URL: {exc}") from None
        breaker = self.breakers[name]
        if not breaker.allow():
            self._count(name, "circuit_open")
            raise IntegrationCircuitOpen(
                name, f"circuit open after repeated failures (retry in "
                      f"{breaker.retry_in():.0f} s)")
        attempts = 1 + (settings.retries if call.repeatable else 0)
        started = time.monotonic()
        error: IntegrationError = IntegrationTimeout(name, "no attempt made")
        for attempt in range(1, attempts + 1):
            try:
                response = await self._once(name, settings, url, call, attempt, started)
            except IntegrationBadResponse:
                breaker.succeeded()  # it answered: this answer is what is wrong
                raise
            except IntegrationError as exc:
                error = exc
            else:
                if response.status < 500:
                    breaker.succeeded()
                    return response
                error = IntegrationStatus(name, response.status)
            if attempt < attempts:
                await asyncio.sleep(settings.backoff * 2 ** (attempt - 1))
        breaker.failed()
        raise error

    async def _once(self, name: str, settings: BackOfficeSettings, url: URL, call: Call,
                    attempt: int, started: float) -> Response:
        assert self._session is not None, "Integrations.running() is not entered"
        headers = {"Accept": "application/json"}
        auth = None
        if settings.auth == "bearer" and settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        elif settings.auth == "basic" and settings.password is not None:
            auth = aiohttp.BasicAuth(settings.username, settings.password.get_secret_value())
        if call.idempotency_key:
            headers["Idempotency-Key"] = call.idempotency_key
        body = None
        if call.body is not None:
            body = {key: fill(template, call.values, segment=False)
                    for key, template in call.body.items()}
        begun = time.monotonic()
        outcome, status = "ok", 0
        try:
            async with self._session.request(
                    call.method, url, headers=headers, auth=auth, json=body,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=settings.timeout)) as http:
                status = http.status
                raw = await _read_bounded(name, http, settings.max_response_bytes)
            outcome = "server_error" if status >= 500 else \
                "client_error" if status >= 400 else "ok"
            data = _json(name, raw, strict=status < 400) if status < 500 else None
            return Response(status, data, attempt, time.monotonic() - started)
        except TimeoutError:
            outcome = "timeout"
            raise IntegrationTimeout(name, f"no answer within {settings.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            outcome = "connection"
            raise IntegrationError(name, f"cannot connect ({type(exc).__name__})") from None
        except IntegrationBadResponse:
            outcome = "bad_response"
            raise
        finally:
            self._count(name, outcome, time.monotonic() - begun)
            log.info("integration.call", integration=name, method=call.method,
                     path=call.path, status=status, outcome=outcome, attempt=attempt,
                     ms=round((time.monotonic() - begun) * 1000, 1))

    def _count(self, name: str, outcome: str, seconds: float | None = None) -> None:
        self.calls[(name, outcome)] += 1
        if seconds is not None:
            total, count = self.latency.get(name, (0.0, 0))
            self.latency[name] = (total + seconds, count + 1)


async def _read_bounded(name: str, http: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or IntegrationBadResponse as soon as it is known to be over `limit`."""
    if http.content_length is not None and http.content_length > limit:
        raise IntegrationBadResponse(name, f"response over {limit} bytes")
    chunks, size = [], 0
    async for chunk in http.content.iter_chunked(16384):
        size += len(chunk)
        if size > limit:
            raise IntegrationBadResponse(name, f"response over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(name: str, raw: bytes, strict: bool) -> Any:
    """The parsed body; a 4xx may come with an HTML error page, which is just no data."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        if not strict:
            return None
        raise IntegrationBadResponse(name, "response is not JSON") from None
