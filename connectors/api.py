"""The REST API channel for integrations (a mobile app, a CRM, a phone bot).

`POST /api/v1/messages` runs the message through the same pipeline as every channel and
answers with the bot's replies at once; `GET /api/v1/conversations/{id}` returns every
message, including operator replies written later. Clients authenticate with a bearer key
from the configuration; the API is described in OpenAPI at `/api/v1/openapi.json`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.addresses import valid_address
from gateway.channels import ConversationKey, Identity, Inbound, NothingToRun, Outbound
from gateway.csat.service import MAX_COMMENT_CHARS, SCALE
from gateway.csat.tokens import SurveyError
from gateway.errors import StoreError
from gateway.ids import MAX_ID, parse_id
from gateway.keys import CONNECTORS, PIPELINE, SETTINGS, STORE, SURVEYS
from gateway.models import Conversation, Message
from gateway.storable import check_storable
from gateway.store import Store

CHANNEL = "api"


#: Text a database can store (no NUL, no lone surrogate).
Text = Annotated[str, AfterValidator(check_storable)]


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Text = Field(min_length=1, max_length=200, description="The customer's id in your system")
    name: Text = Field("", max_length=200)
    email: Text | None = Field(None, max_length=320,
                               description="The customer's e-mail address. Links them to their"
                                           " mail and Slack identity only when the integration"
                                           " is trusted to (link_by_email)")

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and not valid_address(value):
            raise ValueError("not an e-mail address")
        return value


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: CustomerIn
    text: Text = Field(min_length=1, max_length=4000)
    conversation_id: int | None = Field(None, ge=1, le=MAX_ID,
                                        description="Continue this conversation")
    language: Literal["en", "fr", "nl", "de"] | None = None
    message_id: Text | None = Field(None, max_length=200,
                                   description="Your id for this message: a retry with the same "
                                               "id is not processed twice")


class SurveyOut(BaseModel):
    token: str = Field(description="Answer with POST /api/v1/surveys/{token}")
    url: str = Field(description="The gateway's own survey page, for a browser")
    scale: int = Field(description="Scores run from 1 (very dissatisfied) to this")


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=SCALE)
    comment: Text | None = Field(None, max_length=MAX_COMMENT_CHARS)


class SurveyResult(BaseModel):
    ticket_id: int
    score: int
    comment: str | None


class MessageOut(BaseModel):
    id: int
    direction: Literal["inbound", "outbound"]
    author: Literal["customer", "bot", "operator", "system"]
    kind: str | None = Field(None, description="the bot's: answer, clarify, handoff, smalltalk,"
                                              " verify, verified (identity check) or status"
                                              " (where a ticket stands); operator for an"
                                              " operator's reply, notice for a status change,"
                                              " survey for the satisfaction survey")
    text: str
    created_at: str
    article_id: str | None = None
    confidence: float | None = None
    choices: list[str] | None = None
    survey: SurveyOut | None = None


class PostResult(BaseModel):
    conversation_id: int
    message_id: int
    duplicate: bool
    replies: list[MessageOut]
    ticket_id: int | None


class ConversationOut(BaseModel):
    id: int
    customer_id: int
    language: str | None
    owner: Literal["bot", "queue", "operator"]
    messages: list[MessageOut]


class ErrorOut(BaseModel):
    error: str


def message_out(message: Message) -> MessageOut:
    meta = message.meta
    return MessageOut(
        id=message.id, direction=message.direction, author=message.author, kind=message.kind,
        text=message.text, created_at=message.created_at.isoformat(),
        article_id=meta.get("article_id"), confidence=meta.get("confidence"),
        choices=[*meta["titles"], meta.get("none_label", "")] if meta.get("titles") else None,
        survey=SurveyOut(token=form["token"], url=form["url"], scale=form.get("scale", SCALE))
        if message.kind == "survey" and isinstance(form := meta.get("survey"), dict) else None,
    )


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)


#: Where the middleware leaves the name of the integration whose key was presented.
INTEGRATION: web.RequestKey[str] = web.RequestKey("api_integration", str)


def _digest(key: str) -> bytes:
    # surrogateescape: a header aiohttp decoded from bytes hashes like any other string
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def integration_of(request: web.Request) -> str | None:
    """The integration whose key is in `Authorization: Bearer KEY`, or None.

    Keys are compared as SHA-256 digests with `hmac.compare_digest`, every key each time,
    so neither the key's characters nor which integration matched shows in the timing.
    """
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    digest = _digest(given.strip())
    found = None
    for name, integration in request.app[SETTINGS].api.integrations.items():
        if hmac.compare_digest(digest, _digest(integration.key.get_secret_value())):
            found = name
    return found


@web.middleware
async def _bearer(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/api/v1/") or request.path == "/api/v1/openapi.json":
        return await handler(request)
    name = integration_of(request)
    if name is None:
        return web.json_response({"error": "missing or unknown API key"}, status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    request[INTEGRATION] = name
    return await handler(request)


def _owned(conversation: Conversation | None, integration: str) -> bool:
    """An API conversation's address starts with the name of the integration that made it."""
    return (conversation is not None and conversation.channel == CHANNEL
            and conversation.address.startswith(f"{integration}:"))


async def post_message(request: web.Request) -> web.Response:
    try:
        body = MessageIn.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return _error(400, f"{where}: {first['msg']}")
    store = request.app[STORE]
    integration = request[INTEGRATION]
    trusted = request.app[SETTINGS].api.integrations[integration].link_by_email
    # Its customers are its own: the same id from two integrations is two customers.
    identity = Identity(CHANNEL, f"{integration}:{body.customer.id}", body.customer.name,
                        body.customer.email if trusted else None)
    customer = None  # resolved here for a conversation id, by the pipeline otherwise
    try:
        if body.conversation_id is not None:
            conversation = await store.get_conversation(body.conversation_id)
            customer = await store.resolve_customer(identity)
            # A conversation id grants nothing: it must be this customer's API conversation.
            if not _owned(conversation, integration) or conversation is None \
                    or conversation.customer_id != customer.id:
                return _error(404, f"no conversation {body.conversation_id} for this customer")
            address = conversation.address
        elif body.message_id:
            # A retry of a first message (the answer was lost) must find the conversation
            # the first attempt opened: the address follows from the client's message id.
            address = f"{integration}:{body.customer.id}:msg:{body.message_id}"
        else:
            address = f"{integration}:{body.customer.id}:{uuid.uuid4().hex}"
        inbound = Inbound(
            key=ConversationKey(CHANNEL, address), sender=identity, text=body.text,
            channel_message_id=f"{integration}:{body.customer.id}:"
                               f"{body.message_id or uuid.uuid4().hex}",
            language=body.language,
        )
        outcome = await request.app[PIPELINE].handle(inbound, customer)
    except StoreError as exc:
        return _error(503, f"storage unavailable, retry with the same message_id: {exc}")
    result = PostResult(
        conversation_id=outcome.conversation_id, message_id=outcome.message_id,
        duplicate=outcome.duplicate, replies=[message_out(m) for m in outcome.replies],
        ticket_id=outcome.ticket_id,
    )
    return web.json_response(result.model_dump(), status=200 if outcome.duplicate else 201)


async def get_conversation(request: web.Request) -> web.Response:
    conversation_id = parse_id(request.match_info["conversation_id"])
    if conversation_id is None:
        return _error(404, f"no API conversation {request.match_info['conversation_id']!r}")
    store = request.app[STORE]
    try:
        conversation = await store.get_conversation(conversation_id)
        if not _owned(conversation, request[INTEGRATION]) or conversation is None:
            return _error(404, f"no API conversation {conversation_id}")
        messages = await store.messages(conversation.id)
    except StoreError as exc:
        return _error(503, f"storage unavailable: {exc}")
    out = ConversationOut(id=conversation.id, customer_id=conversation.customer_id,
                          language=conversation.language, owner=conversation.owner,
                          messages=[message_out(m) for m in messages])
    return web.json_response(out.model_dump())


#: HTTP status per survey refusal: altered token, expired, answered already.
_SURVEY_STATUS = {"csat_invalid": 400, "csat_expired": 410, "csat_used": 409}


async def post_survey(request: web.Request) -> web.Response:
    """The customer's answer to a `survey` message, relayed by the integration that got it."""
    try:
        body = SurveyIn.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        return _error(400, f"{'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")
    surveys, token = request.app[SURVEYS], request.match_info["token"]
    try:
        survey = await surveys.survey_for(token)
        conversation = await request.app[STORE].get_conversation(survey.conversation_id)
        if not _owned(conversation, request[INTEGRATION]):
            return _error(404, "no such survey for this integration")
        survey = await surveys.answer(token, body.score, body.comment, survey.conversation_id)
    except SurveyError as exc:
        return _error(_SURVEY_STATUS.get(exc.reason, 400), str(exc))
    except StoreError as exc:
        return _error(503, f"storage unavailable: {exc}")
    result = SurveyResult(ticket_id=survey.ticket_id, score=body.score, comment=survey.comment)
    return web.json_response(result.model_dump(), status=201)


#: More of the API from other modules (connectors/api_outreach.py): their models and paths.
ApiPart = tuple[tuple[type[BaseModel], ...], dict[str, Any]]
API_PARTS: web.AppKey[list[ApiPart]] = web.AppKey("api_parts", list)


def openapi(parts: list[ApiPart] | None = None) -> dict[str, Any]:
    """The API description, generated from the same models that validate requests."""
    def ref(model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def body(model: type[BaseModel], description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": ref(model)}}}

    schemas: dict[str, Any] = {}
    models: list[type[BaseModel]] = [MessageIn, PostResult, ConversationOut, ErrorOut,
                                   SurveyIn, SurveyResult]
    parts = parts or []
    models += [model for extra, _ in parts for model in extra]
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    errors = {"401": body(ErrorOut, "Missing or unknown API key"),
              "503": body(ErrorOut, "Storage unavailable; retry with the same message_id")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "helpdesk-gateway API", "version": "1"},
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/messages": {"post": {
                "summary": "Send a customer's message; get the bot's replies",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": ref(MessageIn)}}},
                "responses": {"201": body(PostResult, "Processed"),
                              "200": body(PostResult, "Already processed (same message_id)"),
                              "400": body(ErrorOut, "Invalid body"),
                              "404": body(ErrorOut, "Unknown conversation"), **errors},
            }},
            "/api/v1/conversations/{conversation_id}": {"get": {
                "summary": "Every message of a conversation, operator replies included",
                "parameters": [{"name": "conversation_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": body(ConversationOut, "The conversation"),
                              "404": body(ErrorOut, "Unknown conversation"), **errors},
            }},
            "/api/v1/surveys/{token}": {"post": {
                "summary": "Answer a satisfaction survey (a message of kind survey), once",
                "parameters": [{"name": "token", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": ref(SurveyIn)}}},
                "responses": {"201": body(SurveyResult, "Recorded"),
                              "400": body(ErrorOut, "Invalid body or token"),
                              "404": body(ErrorOut, "Not this integration's survey"),
                              "409": body(ErrorOut, "Already answered"),
                              "410": body(ErrorOut, "The survey expired"), **errors},
            }},
            **{path: spec for _, paths in parts for path, spec in paths.items()},
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi(request.app[API_PARTS]))


class ApiConnector(NothingToRun):
    """API clients fetch replies with GET; delivering is recording that it is available."""

    channel = CHANNEL

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        return None

    def first_address(self, identity: str, token: str) -> str:
        """Under the integration's name (`identity` starts with it): its client reads it."""
        return f"{identity}:notify:{token}"

    async def refusal(self, store: Store, identity: str) -> str | None:
        return None


def setup(app: web.Application) -> None:
    app[CONNECTORS][CHANNEL] = ApiConnector()
    app[API_PARTS] = []
    app.middlewares.append(_bearer)
    app.router.add_post("/api/v1/messages", post_message)
    app.router.add_get("/api/v1/conversations/{conversation_id}", get_conversation)
    app.router.add_post("/api/v1/surveys/{token}", post_survey)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
