"""Who the transfer form offers: colleagues by queue, then supervisors and admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.console.queries import OperatorStatus
from gateway.models import Operator, Ticket


@dataclass(frozen=True)
class TransferTarget:
    username: str
    label: str


@dataclass(frozen=True)
class TransferGroup:
    """The operators of one queue in the transfer form (`current`: the ticket's queue)."""

    label: str
    current: bool
    targets: list[TransferTarget]


def transfer_targets(ticket: Ticket, operators: list[Operator],
                     statuses: Mapping[int, OperatorStatus]) -> list[TransferGroup]:
    """Who the transfer form offers, by queue: the colleagues of every queue the ticket can
    go to (an agent transferring to sales may name a sales colleague), then supervisors and
    admins. Supervisors and admins may give any ticket to anyone; the service checks that a
    named agent works the queue the ticket ends up in. `operators`: the request's
    (`people.operators`), with their presence (`people.statuses`)."""
    groups: dict[str, list[TransferTarget]] = {}
    for other in operators:
        if not other.active:
            continue
        status = statuses.get(other.id)
        presence = status.presence if status else "away"
        label = (f"{other.display_name} ({other.username}, {other.role}) · "
                 f"{', '.join(other.queues) or 'no queue'} · {presence}")
        target = TransferTarget(other.username, label)
        if other.role != "agent":
            groups.setdefault("", []).append(target)
            continue
        for queue in other.queues:
            groups.setdefault(queue, []).append(target)
    order = sorted(q for q in groups if q) + ([""] if "" in groups else [])
    return [TransferGroup(label=f"{queue} queue" if queue else "Supervisors and admins",
                          current=queue == ticket.queue, targets=groups[queue])
            for queue in order]
