"""`/console/reports/gaps`: what the bot could not answer, as clusters of similar questions,
and, for admins, turning a cluster into a draft article or into more examples of an existing
one. The files are written into the KB directory and the knowledge base reloaded at once;
see docs/reports.md."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.pages import SESSION, page
from gateway.console.reports import _supervisor
from gateway.console.routes import common
from gateway.keys import KB, STORE
from gateway.models import utcnow
from gateway.reports import drafts
from gateway.reports.gaps import gap_report
from gateway.reports.period import MAX_DAYS
from knowledge_base.authoring import add_examples, clean_questions, write_draft
from knowledge_base.errors import AuthoringError
from knowledge_base.model import CATEGORIES

GAPS = f"{PREFIX}/reports/gaps"

routes = web.RouteTableDef()


def _days(value: str | None) -> int:
    try:
        days = int(value or 30)
    except ValueError:
        raise Refused(400, _("The period is a number of days.")) from None
    if not 1 <= days <= MAX_DAYS:
        raise Refused(400, _("Between 1 and %(num)d days.") % {"num": MAX_DAYS})
    return days


def _admin(request: web.Request) -> None:
    if request[SESSION].operator.role != "admin":
        raise Refused(403, _("Only admins change the knowledge base."))


@routes.get(GAPS)
async def gaps_page(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    days = _days(request.query.get("days"))
    kb = request.app[KB]
    if not kb.ready:
        raise Refused(503, _("The knowledge base is not loaded yet."))
    snapshot = kb.snapshot
    report = await gap_report(request.app[STORE], snapshot.matcher,
                              utcnow() - timedelta(days=days))
    return page(request, "kb_gaps.html", {
        "days": days, "report": report, "articles": snapshot.articles,
        "proposals": {c.key: drafts.proposal(c, snapshot.articles) for c in report.clusters},
        "categories": CATEGORIES, "done": request.query,
        "may_edit": request[SESSION].operator.role == "admin", **await common(request),
    })


@routes.post(f"{GAPS}/draft")
async def create_draft(request: web.Request) -> web.StreamResponse:
    _admin(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    days, kb = _days(form.get("days")), request.app[KB]
    data = drafts.article_data(form)
    if data["id"] in kb.snapshot.articles:
        raise Refused(409, _("An article %(id)s exists already: choose another id.")
                      % {"id": data["id"]})
    try:
        path = await asyncio.to_thread(write_draft, kb.root, data)
    except AuthoringError as exc:
        raise Refused(400, str(exc)) from None
    await kb.reload_if_changed()
    raise web.HTTPSeeOther(f"{GAPS}?" + urlencode({
        "days": days, "drafted": data["id"],
        "file": str(path.relative_to(kb.root.resolve()))}))


@routes.post(f"{GAPS}/examples")
async def add_to_article(request: web.Request) -> web.StreamResponse:
    _admin(request)
    form = await request.post()
    days, kb = _days(str(form.get("days", ""))), request.app[KB]
    article = kb.snapshot.articles.get(str(form.get("article_id", "")))
    if article is None or article.source is None:
        raise Refused(404, _("No such article."))
    questions = clean_questions(str(form.get("questions", "")).splitlines())
    try:
        added = await asyncio.to_thread(add_examples, kb.root, article.source,
                                        str(form.get("language", "")), questions)
    except AuthoringError as exc:
        raise Refused(400, str(exc)) from None
    await kb.reload_if_changed()
    raise web.HTTPSeeOther(f"{GAPS}?" + urlencode({
        "days": days, "extended": article.id, "added": added}))
