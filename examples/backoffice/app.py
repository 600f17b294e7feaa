"""Velora's demo back office: the small JSON API the demo KB's actions call.

`make run` starts it on 127.0.0.1:8090 beside the gateway (config/gateway.toml,
`[integrations.backoffice]`); on its own: `python examples/backoffice/app.py --port 8090`.
Data lives in memory and is the demo customer file's (config/customers.csv). It is a demo,
not a model of a real back office: no persistence, one fixed bearer token.

    GET  /api/customers/{number}/orders/{order}   an order of that customer (404 otherwise)
    GET  /api/stock/{product}?shop=Ghent          stock of a product in one shop
    GET  /api/test-rides/slots?shop=Ghent         free test-ride slots of a shop
    POST /api/test-rides                          book one (Idempotency-Key required)
"""

from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web

TOKEN = "demo-backoffice-token"
ORDERS: dict[tuple[str, str], dict[str, Any]] = {
    ("C-1042", "VEL-20481"): {"status": "shipped", "shipped_on": "2 December",
                              "carrier": "Velora delivery team",
                              "expected_delivery": "4 December"},
    ("C-1042", "VEL-20418"): {"status": "delivered", "delivered_on": "28 November"},
    ("C-2001", "VEL-30000"): {"status": "processing", "expected_ship_date": "5 December"},
    ("B-0007", "VEL-40007"): {"status": "delayed"},
}
SLOTS = {"Ghent": ["Sat 10:00", "Sat 11:00", "Sat 14:00"],
         "Antwerp": ["Sat 10:30", "Sat 15:00"], "Brussels": ["Sat 09:30"]}
#: Bikes in stock per shop, and when the next ones arrive (a product not listed is unknown).
STOCK: dict[str, dict[str, int]] = {
    "City M": {"Ghent": 3, "Antwerp": 0, "Brussels": 1, "Liège": 0},
    "Stad": {"Ghent": 5, "Antwerp": 2, "Brussels": 0, "Liège": 1},
    "Snel 45": {"Ghent": 1, "Antwerp": 1, "Brussels": 0, "Liège": 0},
    "Bakfiets": {"Ghent": 2, "Antwerp": 0, "Brussels": 1, "Liège": 0},
}
NEXT_DELIVERY = "9 December"
#: The shops' names as customers write them in FR/NL/DE, to the back office's own.
SHOP_NAMES = {"gent": "Ghent", "gand": "Ghent", "antwerpen": "Antwerp", "anvers": "Antwerp",
              "brussel": "Brussels", "bruxelles": "Brussels", "brüssel": "Brussels",
              "luik": "Liège", "lüttich": "Liège"}
_BOOKINGS = web.AppKey("bookings", dict)


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"error": "unauthorized"}, status=401)
    response: web.StreamResponse = await handler(request)
    return response


async def order(request: web.Request) -> web.Response:
    found = ORDERS.get((request.match_info["customer"], request.match_info["order"]))
    if found is None:
        return web.json_response({"error": "no such order"}, status=404)
    return web.json_response({"number": request.match_info["order"], **found})


async def stock(request: web.Request) -> web.Response:
    product = next((name for name in STOCK
                    if name.casefold() == request.match_info["product"].casefold()), None)
    typed = request.query.get("shop", "")
    shop = SHOP_NAMES.get(typed.casefold(), typed)
    shops = STOCK.get(product or "", {})
    shop = next((name for name in shops if name.casefold() == shop.casefold()), "")
    if product is None or not shop:
        return web.json_response({"error": "no such product or shop"}, status=404)
    count = shops[shop]
    return web.json_response({
        "product": product, "shop": shop, "in_stock": count,
        "status": "in_stock" if count else "out_of_stock",
        "next_delivery": NEXT_DELIVERY,
        "other_shops": [name for name, n in shops.items() if n and name != shop]})


async def ride_slots(request: web.Request) -> web.Response:
    shop = request.query.get("shop", "")
    if shop not in SLOTS:
        return web.json_response({"error": "no such shop"}, status=404)
    return web.json_response({"shop": shop, "slots": SLOTS[shop]})


async def book(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return web.json_response({"error": "Idempotency-Key required"}, status=400)
    bookings: dict[str, dict[str, Any]] = request.app[_BOOKINGS]
    if key not in bookings:  # a retried request gets the booking made the first time
        body = await request.json()
        bookings[key] = {"reference": f"TR-{len(bookings) + 1:04d}", **body}
    return web.json_response(bookings[key], status=201)


def make_app() -> web.Application:
    app = web.Application(middlewares=[_auth])
    app[_BOOKINGS] = {}
    app.router.add_get("/api/customers/{customer}/orders/{order}", order)
    app.router.add_get("/api/stock/{product}", stock)
    app.router.add_get("/api/test-rides/slots", ride_slots)
    app.router.add_post("/api/test-rides", book)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, print=None)
