"""What an operator is told about their own work: a ticket assigned to them (or taken over
from them), a mention in a colleague's internal note, a customer's reply or an SLA warning
on their ticket.

Each notice is a row of the operator's own (`operator_notifications`) and a signal on their
topic `operator:<id>`; the console's live socket passes the signal on and the page then asks
for the operator's own unread notices over HTTP, so the signal never carries what it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.delivery.notify import Hub
from gateway.models import Operator, Ticket
from gateway.store import Store

#: What each kind reads as (the toast's title, the notifications page).
KINDS = {"assigned": "Assigned to you", "mention": "You were mentioned",
         "customer_reply": "Customer replied", "sla_warning": "SLA warning",
         "sla_breached": "SLA breached", "taken": "Taken over by a colleague"}
#: At most this many mentions in one note notify anyone (a note is not a mailing list).
MAX_MENTIONS = 10
_AT = re.compile(r"(?<![\w@])@")
_WORD = re.compile(r"[\w.\-]+")


def topic(operator_id: int) -> str:
    return f"operator:{operator_id}"


async def notify(store: Store, hub: Hub, operator_id: int, kind: str, ticket: Ticket | None,
                 actor: str, text: str) -> None:
    """Store the notice for the operator and signal their open pages."""
    await store.add_notification(operator_id, kind, ticket.id if ticket else None, actor,
                                 text)

    def signal() -> None:
        hub.publish(topic(operator_id), {"type": "notify"})

    store.db.after_commit(signal)  # the page asks once the row is there for it to read


def mentioned(text: str, operators: Iterable[Operator]) -> list[Operator]:
    """The active operators a note names as `@login` or `@Display Name` (case does not
    matter; the longest name wins); an `@word` naming nobody is just text."""
    known = sorted((o for o in operators if o.active),
                   key=lambda o: -len(o.display_name))
    found: dict[int, Operator] = {}
    for match in _AT.finditer(text[:4000]):
        if len(found) >= MAX_MENTIONS:
            break
        rest = text[match.end():match.end() + 200]
        word = _WORD.match(rest)
        login = word.group(0).rstrip(".-").lower() if word else ""
        for operator in known:
            name = operator.display_name.lower()
            by_name = rest.lower().startswith(name) and not rest[len(name):len(name) + 1].isalnum()
            if operator.username.lower() == login or (name and by_name):
                found.setdefault(operator.id, operator)
                break
    return list(found.values())
