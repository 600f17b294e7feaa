"""The ticket list's filters: GET parameters, checked against what the operator may ask for.

`?queue=&status=&priority=&language=&sla=&assignee=&tag=`; an empty or absent parameter means
"any". A value outside the offered choices (e.g. an agent asking for another queue) is
refused with 400 rather than quietly ignored, so a list never pretends to be filtered.
`?sort=` and `?page=` choose the order and the page (`gateway.console.listing`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from gateway.config.settings import Settings
from gateway.console.guard import Refused
from gateway.console.i18n import N_, _
from gateway.console.listing import PAGE_SIZE, SORTS, TicketFilter, TicketPage
from gateway.models import OPEN_TICKET_STATUSES, Operator

#: Statuses the list can show; the default ("") is every open one (new, open, pending).
STATUSES = ("new", "open", "pending", "solved")
SLA_STATES = ("ok", "warning", "breached")
ASSIGNEES = {"me": N_("Assigned to me"), "none": N_("Unassigned")}
NAMES = ("queue", "status", "priority", "language", "sla", "assignee", "tag")
#: No list has more pages than this (a page number beyond is a typo or a probe).
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Choices:
    """The options of each filter control."""

    queue: tuple[str, ...]
    status: tuple[str, ...]
    priority: tuple[str, ...]
    language: tuple[str, ...]
    sla: tuple[str, ...]
    assignee: tuple[str, ...]
    #: The desk's known tags (`Store.known_tags`).
    tag: tuple[str, ...] = ()


def choices(settings: Settings, operator: Operator, known_tags: Sequence[str] = ()) -> Choices:
    all_queues = tuple(q.name for q in settings.queues)
    queues = all_queues if operator.role in ("supervisor", "admin") else tuple(
        q for q in all_queues if q in operator.queues)
    priorities = tuple(sorted(settings.priority.priorities() | set(settings.sla.targets)))
    return Choices(queue=queues, status=STATUSES, priority=priorities,
                   language=tuple(settings.languages.supported), sla=SLA_STATES,
                   assignee=tuple(ASSIGNEES), tag=tuple(known_tags))


def selected(query: Mapping[str, str], offered: Choices) -> dict[str, str]:
    """The chosen value of each filter ("" for any); 400 for a value not offered."""
    chosen = {}
    for name in NAMES:
        value = query.get(name, "").strip()
        if value and value not in getattr(offered, name):
            raise Refused(400, _("There is no %(name)s filter “%(value)s” for you.")
                          % {"name": name, "value": value})
        chosen[name] = value
    return chosen


def sort_of(query: Mapping[str, str]) -> str:
    """The chosen order (`SORTS`); newest first by default; 400 for another."""
    sort = query.get("sort", "").strip() or "newest"
    if sort not in SORTS:
        raise Refused(400, _("There is no sort order “%(sort)s”.") % {"sort": sort})
    return sort


def page_of(query: Mapping[str, str]) -> int:
    """The page number asked for (1 by default); 400 for anything but 1…MAX_PAGE."""
    raw = query.get("page", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Refused(400, _("The page must be a number from 1 to %(num)d.")
                      % {"num": MAX_PAGE})
    return int(raw)


def ticket_filter(chosen: Mapping[str, str], operator: Operator) -> TicketFilter:
    """The filters as SQL conditions; agents never get beyond their queues."""
    if chosen["queue"]:
        queues: tuple[str, ...] | None = (chosen["queue"],)
    elif operator.role in ("supervisor", "admin"):
        queues = None
    else:
        queues = operator.queues
    assignee = {"me": operator.id, "none": 0}.get(chosen["assignee"])
    return TicketFilter(
        statuses=(chosen["status"],) if chosen["status"] else OPEN_TICKET_STATUSES,
        queues=queues, priority=chosen["priority"] or None,
        language=chosen["language"] or None, assignee_id=assignee,
        sla=chosen["sla"] or None, tag=chosen["tag"] or None,
    )


@dataclass(frozen=True)
class Pager:
    """Links to the neighbouring pages, keeping the filters and the sort of this one."""

    page: int
    pages: int
    first: int
    last: int
    previous: str | None
    next: str | None


def pager(query: Mapping[str, str], found: TicketPage) -> Pager:
    kept = {k: v for k, v in query.items() if k in (*NAMES, "sort") and v}

    def link(number: int) -> str:
        return "/console?" + urlencode({**kept, "page": str(number)})

    start = (found.page - 1) * PAGE_SIZE
    return Pager(page=found.page, pages=found.pages,
                 first=start + 1 if found.tickets else 0, last=start + len(found.tickets),
                 previous=link(found.page - 1) if found.page > 1 else None,
                 next=link(found.page + 1) if found.page < found.pages else None)
