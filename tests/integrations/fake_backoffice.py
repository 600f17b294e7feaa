"""A fake of Velora's back office: a real aiohttp server on port 0 that speaks JSON, records
every call and fails on demand (slow, 5xx, oversize), for the integration tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "backoffice-test-token"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeBackOffice:
    #: (customer number, order number) → order
    orders: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: list[Recorded] = field(default_factory=list)
    #: Statuses to answer with before behaving (503, 500, ...), consumed one per call.
    fail_next: list[int] = field(default_factory=list)
    #: Seconds to wait before answering (a slow back office).
    delay: float = 0.0
    #: Answer with a body this large instead.
    oversize: int = 0
    #: Idempotency-Key → booking; a booking whose response is "lost" once (stored, then 503).
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    lose_next_booking_response: bool = False
    slots: dict[str, list[str]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/customers/{customer}/orders/{number}", self.order)
        app.router.add_get("/test-rides/slots", self.ride_slots)
        app.router.add_post("/test-rides", self.book)
        app.middlewares.append(self._middleware)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.calls.append(Recorded(request.method, request.raw_path, dict(request.query),
                                   dict(request.headers), body))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            return web.json_response({"error": "down"}, status=self.fail_next.pop(0))
        if self.oversize:
            return web.json_response({"status": "shipped", "padding": "x" * self.oversize})
        response: web.StreamResponse = await handler(request)
        return response

    async def order(self, request: web.Request) -> web.Response:
        key = (request.match_info["customer"], request.match_info["number"])
        if key not in self.orders:
            return web.json_response({"error": "no such order"}, status=404)
        return web.json_response(self.orders[key])

    async def ride_slots(self, request: web.Request) -> web.Response:
        shop = request.query.get("shop", "")
        return web.json_response({"shop": shop, "slots": self.slots.get(shop, [])})

    async def book(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return web.json_response({"error": "Idempotency-Key required"}, status=400)
        if key not in self.bookings:
            body = await request.json()
            self.bookings[key] = {"reference": f"TR-{len(self.bookings) + 1:04d}", **body}
            if self.lose_next_booking_response:  # booked, but the answer never arrives
                self.lose_next_booking_response = False
                return web.json_response({"error": "gateway timeout"}, status=504)
        return web.json_response(self.bookings[key], status=201)
