"""`/console/reports`: the contact records of a period as CSV, for supervisors and admins.

Every closed ticket is a contact record (the operator's wrap-up: outcome code and summary,
with the ticket's category, queue, priority and timings), which the helpdesk keeps and
hands to whoever follows quality and workload. One row per closure: a ticket reopened and
closed again is two contacts. Cells are written so that a spreadsheet never runs them as
formulas (a customer's subject "=HYPERLINK(...)" stays text: OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.labels import label
from gateway.console.pages import SESSION, page
from gateway.console.routes import common
from gateway.keys import STORE
from gateway.models import Operator, utcnow
from gateway.store import codec

REPORTS = f"{PREFIX}/reports"
#: Longest period one export covers (a year of contacts is plenty for one file).
MAX_DAYS = 366
#: Stable column names; a code (outcome, status, category) is followed by its label in the
#: language of the one who downloads (`gateway.console.labels`), so a spreadsheet filters on
#: the code and a person reads the label.
COLUMNS = ("ticket", "closed_at", "closed_by", "outcome", "outcome_label", "summary",
           "status_now", "status_now_label", "queue", "priority", "category",
           "category_label", "language", "channel", "customer", "verified_number",
           "subject", "created_at", "first_reply_at", "sla_breaches")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

routes = web.RouteTableDef()


def _supervisor(request: web.Request) -> Operator:
    operator: Operator = request[SESSION].operator
    if operator.role not in ("supervisor", "admin"):
        raise Refused(403, _("Reports are for supervisors and admins."))
    return operator


def _period(query: Any) -> tuple[date, date]:
    """[from, to] inclusive, from the form's dates; the last 30 days by default."""
    today = utcnow().date()
    try:
        start = date.fromisoformat(query.get("from") or str(today - timedelta(days=30)))
        end = date.fromisoformat(query.get("to") or str(today))
    except ValueError:
        raise Refused(400, _("Dates are written YYYY-MM-DD.")) from None
    if end < start:
        raise Refused(400, _("The period ends before it starts."))
    if (end - start).days >= MAX_DAYS:
        raise Refused(400, _("Export at most %(num)d days at a time.") % {"num": MAX_DAYS})
    return start, end


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


@routes.get(REPORTS)
async def reports_page(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    start, end = _period({})
    return page(request, "reports.html", {
        "start": start.isoformat(), "end": end.isoformat(), "max_days": MAX_DAYS,
        **await common(request),
    })


@routes.get(f"{REPORTS}/contacts.csv")
async def contacts_csv(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    start, end = _period(request.query)
    low = codec.ts(datetime.combine(start, datetime.min.time(), UTC))
    high = codec.ts(datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC))
    rows = await request.app[STORE].db.fetchall(
        "SELECT t.id, e.created_at AS closed_at, e.actor AS closed_by, e.data AS closing,"
        " t.status, t.queue, t.priority, t.category, t.language, c.channel, t.customer_id,"
        " c.verified_number, t.subject, t.created_at,"
        " (SELECT MIN(r.created_at) FROM events r WHERE r.ticket_id = t.id"
        "   AND r.type = 'ticket.replied') AS first_reply_at,"
        " (SELECT COUNT(*) FROM events b WHERE b.ticket_id = t.id"
        "   AND b.type = 'sla.breached') AS breaches"
        " FROM events e JOIN tickets t ON t.id = e.ticket_id"
        " JOIN conversations c ON c.id = t.conversation_id"
        " WHERE e.type = 'ticket.closed' AND e.created_at >= ? AND e.created_at < ?"
        " ORDER BY e.created_at, e.id", low, high)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        closing = json.loads(row["closing"] or "{}")
        outcome, category = closing.get("outcome", ""), row["category"]
        writer.writerow([_cell(v) for v in (
            row["id"], row["closed_at"], row["closed_by"], outcome,
            label(outcome, "outcome") if outcome else "", closing.get("summary", ""),
            row["status"], label(row["status"], "status"), row["queue"], row["priority"],
            category, label(category, "purpose") if category else "",
            row["language"], row["channel"], row["customer_id"],
            row["verified_number"], row["subject"], row["created_at"], row["first_reply_at"],
            row["breaches"])])
    name = f"contacts-{start.isoformat()}-{end.isoformat()}.csv"
    return web.Response(body=out.getvalue().encode("utf-8-sig"), content_type="text/csv",
                        charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
