"""`/console/search`: find any ticket, closed ones too, by number, customer or text.

The search runs in SQL on indexes (`gateway.store.search_queries`) and only over the queues
the operator may see, so a result never names another team's ticket; `#123` alone opens
ticket 123 when it is one of theirs, and finds nothing otherwise (nothing tells "exists, not
yours" apart from "does not exist").
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from gateway.console import filters, people, views
from gateway.console.guard import PREFIX, Refused
from gateway.console.i18n import _
from gateway.console.pages import SESSION, page
from gateway.console.routes import common
from gateway.keys import STORE
from gateway.models import Operator
from gateway.store.search_queries import MAX_HITS, SearchHits, search_terms

#: Results per page.
PAGE_SIZE = 20
#: The longest search accepted (a search box, not a document).
MAX_QUERY = 200

routes = web.RouteTableDef()


def visible_queues(operator: Operator) -> tuple[str, ...] | None:
    """The queues an operator's searches cover (None: every queue)."""
    return None if operator.role in ("supervisor", "admin") else operator.queues


def _pages(found: SearchHits) -> int:
    return max(1, -(-min(found.total, MAX_HITS) // PAGE_SIZE))


@routes.get(f"{PREFIX}/search")
async def search(request: web.Request) -> web.StreamResponse:
    operator, store = request[SESSION].operator, request.app[STORE]
    query = request.query.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise Refused(400, _("A search is limited to %(num)d characters.") % {"num": MAX_QUERY})
    number = filters.page_of(request.query)
    terms, ignored = search_terms(query)
    queues = visible_queues(operator)
    found = await store.search_tickets(terms, queues, page=number, size=PAGE_SIZE)
    only = terms[0] if query.startswith("#") and len(terms) == 1 else None
    if only is not None and number == 1 and found.tickets and found.tickets[0].id == only.number:
        raise web.HTTPSeeOther(f"{PREFIX}/tickets/{only.number}")
    pages = _pages(found)

    def link(n: int) -> str:
        return f"{PREFIX}/search?" + urlencode({"q": query, "page": str(n)})

    return page(request, "search.html", {
        "query": query, "terms": terms, "ignored": ignored, "found": found,
        "rows": await views.ticket_rows(store, found.tickets, await people.operators(request)),
        "max_hits": MAX_HITS,
        "page_number": number, "pages": pages,
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
        **await common(request),
    })
