"""The list's named views (My tickets, Unassigned, Due soon, Breached…) with true counts.

A view is a bookmark of filters and a sort (`?assignee=me&sort=due`), so there is one way to
list tickets; the navigation counts each view in SQL over every ticket, as the list does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from gateway.console import filters, listing
from gateway.console.i18n import N_, _
from gateway.models import Operator
from gateway.store import Store


@dataclass(frozen=True)
class View:
    label: str
    params: dict[str, str]


VIEWS = (
    View(N_("My tickets"), {"assignee": "me", "sort": "due"}),
    View(N_("Unassigned"), {"assignee": "none", "sort": "due"}),
    View(N_("Due soon"), {"sla": "warning", "sort": "due"}),
    View(N_("Breached"), {"sla": "breached", "sort": "due"}),
    View(N_("Pending"), {"status": "pending", "sort": "updated"}),
    View(N_("Recently solved"), {"status": "solved", "sort": "updated"}),
    View(N_("All open"), {}),
)


@dataclass(frozen=True)
class ViewLink:
    label: str
    href: str
    count: int
    current: bool


def _chosen(params: Mapping[str, str]) -> dict[str, str]:
    return {name: params.get(name, "") for name in filters.NAMES}


def view_filters(operator: Operator) -> list[listing.TicketFilter]:
    """What each view lists for this operator, in `VIEWS`' order (for `listing.counts`)."""
    return [filters.ticket_filter(_chosen(view.params), operator) for view in VIEWS]


async def view_links(store: Store, operator: Operator, query: Mapping[str, str],
                     now: datetime, totals: Sequence[int] | None = None) -> list[ViewLink]:
    """Every view with its count (counted here unless given, in `view_filters`' order: the
    list counts them with its own total); `current` for the one the list shows now."""
    asked = {k: v for k, v in query.items() if k in (*filters.NAMES, "sort") and v}
    asked.setdefault("sort", "newest")
    if totals is None:
        totals = await listing.counts(store, view_filters(operator), now)
    return [ViewLink(label=_(view.label), count=total,
                     href="/console" + ("?" + urlencode(view.params) if view.params else ""),
                     current=asked == {"sort": "newest", **view.params})
            for view, total in zip(VIEWS, totals, strict=True)]
