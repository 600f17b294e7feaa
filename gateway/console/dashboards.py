"""`/console/dashboards`: how the desk and the bot are doing, for supervisors and admins.

Each section is one table from `gateway.reports.dashboards` (aggregated in SQL), drawn as
an SVG chart with the table beside it and a CSV download of the same table. The period and
queue filters are GET parameters, so a dashboard can be bookmarked. See docs/reports.md.

The tables come in English (`N_`-marked titles, column codes): the page shows them in the
operator's language (`shown`), the CSV keeps the codes and adds a `category_label` column
beside a purpose category, as the contacts export does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from aiohttp import web
from markupsafe import Markup

from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _, said
from gateway.console.labels import label
from gateway.console.pages import number, page
from gateway.console.reports import _cell, _supervisor
from gateway.console.routes import common
from gateway.keys import SETTINGS, STORE
from gateway.models import utcnow
from gateway.reports import dashboards, svg
from gateway.reports.period import Period, PeriodError, Table, parse_period
from gateway.sla import daily, durations, outcomes
from gateway.store import Store

DASHBOARDS = f"{PREFIX}/dashboards"

routes = web.RouteTableDef()


def _period(request: web.Request) -> Period:
    query = request.query
    try:
        return parse_period(query.get("from"), query.get("to"), query.get("queue"),
                            [q.name for q in request.app[SETTINGS].queues], utcnow().date())
    except PeriodError as exc:
        raise Refused(400, said(exc.message, exc.params)) from None


async def _one(table: Awaitable[Table]) -> list[Table]:
    return [await table]


#: The sections, each with the CSV names of the tables it makes, in the page's order.
SECTIONS: tuple[tuple[tuple[str, ...], Callable[[Store, Period], Awaitable[list[Table]]]],
                ...] = (
    (("volume-by-day", "volume-by-channel", "volume-by-language", "volume-by-category"),
     lambda store, period: dashboards.volume(store.db, period)),
    (("containment",), lambda store, period: _one(dashboards.containment(store.db, period))),
    (("timings",), lambda store, period: _one(dashboards.timings(store.db, period))),
    (("sla",), lambda store, period: _one(dashboards.sla(store.db, period))),
    (("backlog",), lambda store, period: _one(dashboards.backlog(store.db, period))),
    (("operators",), lambda store, period: _one(dashboards.operators(store.db, period))),
    (("csat-by-queue", "csat-by-operator"), dashboards.csat),
)


async def tables(store: Store, period: Period, only: str | None = None) -> dict[str, Table]:
    """The dashboard tables by CSV name, in the page's order (`only`: just the section that
    makes that table, for its CSV)."""
    found: list[Table] = []
    for names, make in SECTIONS:
        if only is None or only in names:
            found += await make(store, period)
    return {table.name: table for table in found}


def shown(table: Table) -> Table:
    """`table` in the operator's language: title, description, the groups without a name
    ("(all queues)") and purpose categories translated; the columns stay codes (`headers`)."""
    category = table.columns.index("category") if "category" in table.columns else -1

    def cell(index: int, value: Any) -> Any:
        if isinstance(value, str) and value in dashboards.PLACEHOLDERS:
            return _(value)
        return label(value, "purpose") if index == category else value

    return replace(table, title=_(table.title), description=_(table.description),
                   rows=[tuple(cell(i, v) for i, v in enumerate(row)) for row in table.rows])


def headers(table: Table) -> list[str]:
    """The table's column headers in the operator's language."""
    return [_(dashboards.COLUMN_LABELS[c]) if c in dashboards.COLUMN_LABELS else c
            for c in table.columns]


def _csv_rows(table: Table) -> tuple[list[str], list[list[Any]]]:
    """The CSV's header (codes) and rows, with the label beside a purpose category."""
    if "category" not in table.columns:
        return list(table.columns), [list(row) for row in table.rows]
    at = table.columns.index("category") + 1
    return ([*table.columns[:at], "category_label", *table.columns[at:]],
            [[*row[:at], label(row[at - 1], "purpose"), *row[at:]] for row in table.rows])


def _column(table: Table, name: str) -> list[Any]:
    index = table.columns.index(name)
    return [row[index] for row in table.rows]


def charts(found: dict[str, Table]) -> dict[str, Markup]:
    """The SVG chart of each table that has one (`found` as `shown`: translated; figures
    written the operator's way)."""
    bars = partial(svg.bars, empty=_("No data in this period."), number=number)
    columns = partial(svg.columns, number=number)
    drawn: dict[str, Markup] = {}
    for name, table in found.items():
        first, desc = table.columns[0], table.description
        if name in ("volume-by-day", "backlog"):
            drawn[name] = columns(f"chart-{name}", table.title, desc, _column(table, first),
                                  _column(table, table.columns[1]), line=name == "backlog")
        elif name.startswith("volume-by-"):
            drawn[name] = bars(f"chart-{name}", table.title, desc, _column(table, first),
                               _column(table, "tickets"))
        elif name == "containment":
            labels = [f"{a} ({lang})" for a, lang in zip(_column(table, "article"),
                                                         _column(table, "language"),
                                                         strict=True)]
            drawn[name] = bars("chart-containment", _("Share of answers contained"), desc,
                               labels, _column(table, "contained_percent"), unit=" %")
        elif name == "timings":
            drawn[name] = bars("chart-timings",
                               _("Median first response (business hours, minutes)"), desc,
                               _column(table, "queue"), _column(table, "first_response_median"),
                               unit=" min")
        elif name == "sla":
            labels = [f"{q} {p}" for q, p in zip(_column(table, "queue"),
                                                 _column(table, "priority"), strict=True)]
            drawn[name] = bars("chart-sla", _("SLA met (%)"), desc, labels,
                               _column(table, "met_percent"), unit=" %")
        elif name.startswith("csat-by-"):
            drawn[name] = bars(f"chart-{name}",
                               _("%(title)s (%% satisfied)") % {"title": table.title}, desc,
                               _column(table, table.columns[0]), _column(table, "csat_percent"),
                               unit=" %")
        elif name == "operators":
            drawn[name] = bars("chart-operators", _("Tickets replied to per operator"), desc,
                               _column(table, "name"), _column(table, "tickets_replied"))
    return drawn


async def _durations(request: web.Request) -> None:
    """Business-time durations, bot outcomes and daily rows of what happened since the SLA
    watcher's last round, so a ticket answered a minute ago counts (one bounded batch each;
    the watcher does the rest; until the daily rows are complete the sections that read
    them read the tickets instead)."""
    await durations.sweep(request.app[STORE], request.app[SETTINGS].calendar.for_queue,
                          max_batches=1)
    await outcomes.sweep(request.app[STORE], max_batches=1)
    await daily.sweep(request.app[STORE], max_batches=1)


@routes.get(DASHBOARDS)
async def dashboards_page(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    period = _period(request)
    await _durations(request)
    found = {name: shown(table) for name, table in
             (await tables(request.app[STORE], period)).items()}
    return page(request, "dashboards.html", {
        "period": period, "tables": found, "charts": charts(found),
        "headers": {name: headers(table) for name, table in found.items()},
        "queues": [q.name for q in request.app[SETTINGS].queues],
        "query": request.query_string, **await common(request),
    })


@routes.get(DASHBOARDS + "/{name}.csv")
async def dashboard_csv(request: web.Request) -> web.StreamResponse:
    _supervisor(request)
    period = _period(request)
    name = request.match_info["name"]
    await _durations(request)
    table = (await tables(request.app[STORE], period, only=name)).get(name)
    if table is None:
        raise web.HTTPNotFound()
    out = io.StringIO()
    writer = csv.writer(out)
    header, rows = _csv_rows(table)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    name = f"{table.name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return web.Response(body=out.getvalue().encode("utf-8-sig"), content_type="text/csv",
                        charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
