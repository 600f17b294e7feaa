"""SLA clocks: due times in business hours, paused while pending, warning and breach."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.config.policy import SlaSettings
from gateway.models import Event, Ticket
from gateway.sla.clocks import StatusHistory, evaluate, history_from_events

from .helpers import local, office

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
SLA = SlaSettings()  # P1 30 min / 4 h, P2 2 h / 9 h, P3 4 h / 27 h, P4 9 h / 45 h


def history(priority: str, created: datetime, *changes: tuple[datetime, str],
            replied: datetime | None = None) -> StatusHistory:
    return StatusHistory(created, priority, ((created, "new"), *changes), replied)


def test_first_response_due_counts_only_business_hours_over_the_weekend() -> None:
    friday_4pm = local(2026, 3, 6, 16)
    status = evaluate(history("P3", friday_4pm), SLA, office(), friday_4pm)
    assert status.first_response.due == local(2026, 3, 9, 11)  # 2 h Friday + 2 h Monday
    assert status.resolution.due == local(2026, 3, 11, 16)  # 27 business hours
    assert status.state == "ok" and not status.paused


def test_due_times_move_by_the_business_time_spent_pending() -> None:
    created = local(2026, 3, 9, 9)
    before = evaluate(history("P2", created), SLA, office(), created)
    assert before.resolution.due == local(2026, 3, 9, 18)

    pending = history("P2", created, (local(2026, 3, 9, 10), "pending"))
    while_pending = evaluate(pending, SLA, office(), local(2026, 3, 10, 9, 30))
    assert while_pending.paused
    assert while_pending.next_check() is None  # nothing can breach while paused
    assert while_pending.paused_time == 8 * H + 30 * MIN

    resumed = history("P2", created, (local(2026, 3, 9, 10), "pending"),
                      (local(2026, 3, 10, 10), "open"))
    status = evaluate(resumed, SLA, office(), local(2026, 3, 10, 11))
    assert not status.paused
    assert status.paused_time == 9 * H  # Monday 10:00-18:00 and Tuesday 09:00-10:00
    assert status.resolution.due == local(2026, 3, 10, 18)
    assert status.resolution.due == office().add_business_time(before.resolution.due, 9 * H)
    assert status.resolution.elapsed == 2 * H


def test_a_solved_ticket_reopened_by_the_customer_resumes_its_clock() -> None:
    created = local(2026, 3, 9, 9)
    solved = history("P2", created, (local(2026, 3, 9, 11), "solved"))
    status = evaluate(solved, SLA, office(), local(2026, 3, 12, 9))
    assert status.resolution.done and status.resolution.state == "ok"
    reopened = history("P2", created, (local(2026, 3, 9, 11), "solved"),
                       (local(2026, 3, 10, 9), "open"))
    status = evaluate(reopened, SLA, office(), local(2026, 3, 10, 9))
    assert status.resolution.running and not status.resolution.done
    assert status.resolution.due == local(2026, 3, 10, 16)  # 2 h used, 7 h to go


def test_clock_turns_to_warning_then_breached() -> None:
    created = local(2026, 3, 9, 9)
    ticket = history("P1", created)  # first response 30 min, warning at 75 %
    states = {minutes: evaluate(ticket, SLA, office(), created + minutes * MIN)
              for minutes in (20, 23, 30, 31)}
    assert states[20].first_response.state == "ok"
    assert states[20].next_check() == created + 22.5 * MIN
    assert states[23].first_response.state == "warning"
    assert states[23].next_check() == created + 30 * MIN
    assert states[30].state == "breached"
    assert states[31].first_response.due == created + 30 * MIN


def test_warning_minutes_override_the_fraction() -> None:
    created = local(2026, 3, 9, 9)
    settings = SlaSettings(warning_minutes=10)
    status = evaluate(history("P1", created), settings, office(), created + 19 * MIN)
    assert status.first_response.state == "ok"
    assert status.first_response.warn_at == created + 20 * MIN


def test_first_reply_in_time_meets_the_first_response_target_for_good() -> None:
    created = local(2026, 3, 9, 9)
    replied = history("P1", created, (created + 10 * MIN, "open"), replied=created + 10 * MIN)
    status = evaluate(replied, SLA, office(), created + 3 * H)
    assert status.first_response.done and status.first_response.state == "ok"
    assert status.first_response.elapsed == 10 * MIN
    late = history("P1", created, (created + 45 * MIN, "open"), replied=created + 45 * MIN)
    status = evaluate(late, SLA, office(), created + 3 * H)
    assert status.first_response.state == "breached" and status.first_response.done


def test_raising_the_priority_tightens_the_due_times() -> None:
    created = local(2026, 3, 9, 9)
    p4 = evaluate(history("P4", created), SLA, office(), created + H)
    p1 = evaluate(history("P1", created), SLA, office(), created + H)
    assert p4.state == "ok" and p1.state == "breached"
    assert p1.resolution.due < p4.resolution.due


def test_history_is_read_from_the_ticket_events() -> None:
    created = local(2026, 3, 9, 9)
    ticket = Ticket(id=7, conversation_id=1, customer_id=1, status="open", priority="P2",
                    queue="billing", assignee_id=None, subject="s", language="nl",
                    category=None, bot_attempts=[], created_at=created, updated_at=created)

    def event(n: int, type_: str, at: datetime, **data: object) -> Event:
        return Event(id=n, conversation_id=1, ticket_id=7, actor="x", type=type_, data=data,
                     created_at=at)

    events = [
        event(1, "ticket.created", created, queue="billing", priority="P2"),
        event(2, "ticket.assigned", created + 5 * MIN, status={"from": "new", "to": "open"}),
        event(3, "ticket.note", created + 6 * MIN, text="internal"),
        event(4, "ticket.replied", created + 20 * MIN, message_id=3),
        event(5, "ticket.updated", created + 21 * MIN, status={"from": "open", "to": "pending"}),
        event(6, "ticket.replied", created + 30 * MIN, message_id=4),
        event(7, "ticket.reopened", created + H, status={"from": "pending", "to": "open"}),
    ]
    read = history_from_events(ticket, reversed(events))
    assert read.statuses == ((created, "new"), (created + 5 * MIN, "open"),
                             (created + 21 * MIN, "pending"), (created + H, "open"))
    assert read.first_response_at == created + 20 * MIN
    assert read.priority == "P2" and read.status == "open"
