"""`/console/campaigns`: supervisors create a campaign (a template, an audience from a CSV
upload or a segment of the customer directory, a start, a send rate), pause and resume
it, and read its counts (queued, skipped, delivered, failed, replied, unsubscribed)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime

from aiohttp import web

from gateway.addresses import valid_address
from gateway.channels import Identity
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import N_, _
from gateway.console.pages import SESSION, page
from gateway.console.routes import common
from gateway.keys import SETTINGS, STORE
from gateway.models import Operator, utcnow

CAMPAIGNS = f"{PREFIX}/campaigns"
#: An uploaded audience has at most this many rows (the request itself is at most 1 MiB).
MAX_ROWS = 20_000
routes = web.RouteTableDef()


def _supervisor(request: web.Request) -> Operator:
    operator = request[SESSION].operator
    if operator.role not in ("supervisor", "admin"):
        raise Refused(403, _("Campaigns are for supervisors."))
    return operator


def read_audience(raw: bytes) -> list[tuple[str, str, str | None]]:
    """(email, name, language) rows of a CSV with an `email` column (CPU: in a thread)."""
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    if "email" not in (reader.fieldnames or ()):
        raise ValueError("the CSV needs an email column")
    rows: list[tuple[str, str, str | None]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise ValueError(f"at most {MAX_ROWS} rows")
        email = (row.get("email") or "").strip().lower()
        if valid_address(email):
            language = (row.get("language") or "").strip() or None
            rows.append((email, (row.get("name") or "").strip()[:200],
                         language if language in ("en", "fr", "nl", "de") else None))
    return rows


@routes.get(CAMPAIGNS)
async def campaigns_page(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    store = request.app[STORE]
    listed = [{**c, "counts": await store.campaign_counts(c["id"])}
              for c in await store.campaigns()]
    return page(request, "campaigns.html", {
        "campaigns": listed, "done": _done(request.query.get("done", "")),
        **await common(request)})


#: `?done=` after an action on a campaign.
DONE = {"created": N_("Campaign created."), "paused": N_("Campaign paused."),
        "resumed": N_("Campaign resumed.")}


def _done(said: str) -> str | None:
    return _(DONE[said]) if said in DONE else None


@routes.post(CAMPAIGNS)
async def create_campaign(request: web.Request) -> web.StreamResponse:
    operator = _supervisor(request)
    store, form = request.app[STORE], await request.post()
    name, template_id = str(form.get("name", "")).strip()[:200], str(form.get("template", ""))
    if not name or not template_id:
        raise Refused(400, _("A campaign needs a name and a template."))
    try:
        rate = float(str(form.get("rate", "60")))
        start = datetime.fromisoformat(str(form.get("start", "")).strip()[:16]).replace(
            tzinfo=request.app[SETTINGS].calendar.calendar().tz) if form.get("start") \
            else utcnow()
    except ValueError:
        raise Refused(400, _("Give a send rate (messages a minute) and a start "
                              "time.")) from None
    if not 0 < rate <= 6000:
        raise Refused(400, _("The send rate is between 1 and 6000 messages a minute."))
    upload = form.get("audience")
    if isinstance(upload, web.FileField):
        try:
            rows = await asyncio.to_thread(read_audience, upload.file.read())
        except ValueError as exc:
            raise Refused(400, _("The audience file: %(error)s.") % {"error": exc}) from None
        customers = [(await store.resolve_customer(Identity("email", e, n, e))) for e, n, _lang in
                     rows]
        for customer, (_email, _name, language) in zip(customers, rows, strict=True):
            if language and not customer.language:
                await store.update_customer(customer.id, language=language)
        ids = [c.id for c in customers]
    else:
        ids = await store.audience_segment(str(form.get("segment", "")) or None,
                                           str(form.get("language", "")) or None)
    if not ids:
        raise Refused(400, _("The audience is empty."))
    await store.create_campaign(name, template_id, rate, start, operator.username, ids)
    raise web.HTTPSeeOther(f"{CAMPAIGNS}?done=created")


@routes.post(CAMPAIGNS + r"/{campaign_id:\d+}/{action:(pause|resume)}")
async def pause_or_resume(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    campaign_id = int(request.match_info["campaign_id"])
    pause = request.match_info["action"] == "pause"
    store = request.app[STORE]
    changed = await store.set_campaign_status(campaign_id, "paused", was="running") or \
        await store.set_campaign_status(campaign_id, "paused", was="scheduled") if pause else \
        await store.set_campaign_status(campaign_id, "running", was="paused")
    if not changed:
        raise Refused(409, _("The campaign is not in a state to do that."))
    raise web.HTTPSeeOther(f"{CAMPAIGNS}?done={request.match_info['action']}d")
