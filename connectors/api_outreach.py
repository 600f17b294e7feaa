"""The REST API's outbound half: `POST /api/v1/notifications` (the company's systems tell a
customer something, on the customer's own channel) and `PUT /api/v1/contact-preferences`
(the preference centre: channel and opt-outs). Same keys and ownership as the rest of the
API (connectors/api.py): an integration reaches its own customers only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from connectors.api import API_PARTS, INTEGRATION, CustomerIn, ErrorOut, Text
from gateway.errors import StoreError
from gateway.ids import MAX_ID
from gateway.keys import NOTIFIER, SETTINGS, STORE
from gateway.outreach.notifications import NotificationError, NotificationRequest

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: CustomerIn
    template_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$",
                             description="A file of the templates directory")
    fields: dict[FieldName, Annotated[Text, Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=50,
        description="Values for the template's {fields.NAME}; escaped, a missing one reads"
                    " neutrally")
    ticket_id: int | None = Field(None, ge=1, le=MAX_ID,
                                  description="The customer's ticket: replies join it")
    order_ref: Text | None = Field(None, max_length=100, description="Shown as {order.ref}")
    idempotency_key: Text = Field(min_length=1, max_length=200,
                                  description="The same key again is sent once and gets the"
                                              " same answer")


class NotificationOut(BaseModel):
    status: Literal["queued", "skipped"]
    reason: Literal["opted_out", "bounced", "erased", "no_channel"] | None = Field(
        None, description="Why nothing was sent (skipped)")
    detail: str | None = None
    channel: str | None = None
    language: str | None = None
    template_id: str
    conversation_id: int | None = Field(None, description="Where replies arrive")
    message_id: int | None = None
    ticket_id: int | None = None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: CustomerIn
    channel: Literal["email", "slack", "api"] | None = Field(
        None, description="Reach the customer here first; null: the channel they used last")
    opt_out: list[Category] = Field(default_factory=list, max_length=50,
                                    description="Template categories (or 'all') to stop")
    opt_in: list[Category] = Field(default_factory=list, max_length=50)


class PreferencesOut(BaseModel):
    channel: str | None
    opted_out: list[str]


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)


def _invalid(exc: ValidationError) -> web.Response:
    first = exc.errors()[0]
    return _error(400, f"{'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")


async def post_notification(request: web.Request) -> web.Response:
    try:
        body = NotificationIn.model_validate_json(await request.read())
    except ValidationError as exc:
        return _invalid(exc)
    integration = request[INTEGRATION]
    notice = NotificationRequest(
        integration=integration,
        trusted=request.app[SETTINGS].api.integrations[integration].link_by_email,
        customer_ref=body.customer.id, customer_name=body.customer.name,
        customer_email=body.customer.email, template_id=body.template_id,
        idempotency_key=body.idempotency_key, fields=body.fields, ticket_id=body.ticket_id,
        order_ref=body.order_ref)
    try:
        response, duplicate = await request.app[NOTIFIER].notify(notice)
    except NotificationError as exc:
        return _error(exc.status, str(exc))
    except StoreError as exc:
        return _error(503, f"storage unavailable, retry with the same idempotency_key: {exc}")
    return web.json_response(NotificationOut(**response).model_dump(),
                             status=200 if duplicate else 201)


async def put_preferences(request: web.Request) -> web.Response:
    try:
        body = PreferencesIn.model_validate_json(await request.read())
    except ValidationError as exc:
        return _invalid(exc)
    store = request.app[STORE]
    address = f"{request[INTEGRATION]}:{body.customer.id}"
    try:
        customer = await store.customer_by_identity("api", address)
        if customer is None:
            return _error(404, f"no customer {body.customer.id!r} of this integration")
        await store.set_preferred_channel(customer.id, body.channel)
        for category in body.opt_out:
            await store.set_opt_out(customer.id, category, True)
        for category in body.opt_in:
            await store.set_opt_out(customer.id, category, False)
        out = PreferencesOut(channel=body.channel, opted_out=await store.opt_outs(customer.id))
    except StoreError as exc:
        return _error(503, f"storage unavailable: {exc}")
    return web.json_response(out.model_dump())


def _paths() -> dict[str, Any]:
    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": {
            "$ref": f"#/components/schemas/{model.__name__}"}}}}

    def answer(model: type[BaseModel], description: str) -> dict[str, Any]:
        return {"description": description, **ref(model)}

    errors = {"400": answer(ErrorOut, "Invalid body"),
              "401": answer(ErrorOut, "Missing or unknown API key"),
              "404": answer(ErrorOut, "Not a customer (or ticket) of this integration"),
              "503": answer(ErrorOut, "Storage unavailable; retry with the same key")}
    return {
        "/api/v1/notifications": {"post": {
            "summary": "Tell a customer something on their own channel, once per key",
            "requestBody": {"required": True, **ref(NotificationIn)},
            "responses": {"201": answer(NotificationOut, "Queued, or skipped with the reason"),
                          "200": answer(NotificationOut, "The same idempotency_key again"),
                          "409": answer(ErrorOut, "The key was used for another notification"),
                          "422": answer(ErrorOut, "Unknown template"), **errors}}},
        "/api/v1/contact-preferences": {"put": {
            "summary": "The customer's channel and opt-outs (per template category)",
            "requestBody": {"required": True, **ref(PreferencesIn)},
            "responses": {"200": answer(PreferencesOut, "Recorded"), **errors}}},
    }


def setup(app: web.Application) -> None:
    app[API_PARTS].append(((NotificationIn, NotificationOut, PreferencesIn, PreferencesOut),
                           _paths()))
    app.router.add_post("/api/v1/notifications", post_notification)
    app.router.add_put("/api/v1/contact-preferences", put_preferences)
