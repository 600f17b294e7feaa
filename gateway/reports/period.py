"""What a report covers (days and queue) and what it gives back (a table of plain rows):
every chart is drawn from its table, and the same table is its CSV download."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.catalogue import N_
from gateway.store import codec

#: Longest period one report covers (and a bound on the days a chart draws).
MAX_DAYS = 366


class PeriodError(ValueError):
    """A period a person typed that cannot be reported on; the message says why (an
    `N_`-marked msgid and its `params`: the console says it in the operator's language)."""

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


@dataclass(frozen=True)
class Period:
    """[start, end], both UTC days included, optionally one queue."""

    start: date
    end: date
    queue: str | None = None

    @property
    def low(self) -> str:
        return codec.ts(datetime.combine(self.start, datetime.min.time(), UTC))

    @property
    def high(self) -> str:
        return codec.ts(datetime.combine(self.end + timedelta(days=1), datetime.min.time(), UTC))

    def days(self) -> list[str]:
        return [(self.start + timedelta(days=n)).isoformat()
                for n in range((self.end - self.start).days + 1)]

    def queue_sql(self, column: str = "t.queue") -> tuple[str, list[Any]]:
        """The queue condition for a query's WHERE (empty when all queues)."""
        return (f" AND {column} = ?", [self.queue]) if self.queue else ("", [])


def parse_period(start: str | None, end: str | None, queue: str | None,
                 queues: list[str], today: date) -> Period:
    """The period a form asked for: the last 30 days by default, at most `MAX_DAYS`, and a
    queue only among the configured ones."""
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError:
        raise PeriodError(N_("Dates are written YYYY-MM-DD.")) from None
    if last < first:
        raise PeriodError(N_("The period ends before it starts."))
    if (last - first).days >= MAX_DAYS:
        raise PeriodError(N_("Report at most %(num)d days at a time."), num=MAX_DAYS)
    if queue and queue not in queues:
        raise PeriodError(N_("No such queue."))
    return Period(first, last, queue or None)


@dataclass(frozen=True)
class Table:
    """One report's figures: `name` is its CSV file name, `rows` plain values."""

    name: str
    #: English, marked with `N_`: the console shows it translated, the CSV keeps `columns`.
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: What the figures mean, in one sentence (the chart's <desc> and the table's caption).
    description: str = ""
