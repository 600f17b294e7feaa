"""The few SQL fragments that differ between SQLite and PostgreSQL, for the report queries.

Everything else in the reports is portable SQL. Timestamps are ISO-8601 UTC text
(`gateway.store.codec.ts`), which both engines parse; JSON columns are text.
"""

from __future__ import annotations

#: Quantiles the dashboards show: the median and the 90th percentile.
QUANTILES = (0.5, 0.9)


def seconds_between(start: str, end: str, dialect: str) -> str:
    """Seconds from timestamp column `start` to `end` (NULL when either is NULL)."""
    if dialect == "postgresql":
        return (f"EXTRACT(EPOCH FROM (CAST({end} AS timestamptz)"
                f" - CAST({start} AS timestamptz)))")
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def json_text(column: str, key: str, dialect: str) -> str:
    """The text of top-level `key` of the JSON in `column` (`key` is ours, never input)."""
    assert key.isidentifier(), key
    if dialect == "postgresql":
        return f"(CAST({column} AS jsonb) ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def day(column: str) -> str:
    """The UTC day (YYYY-MM-DD) of a timestamp column: its first ten characters."""
    return f"SUBSTR({column}, 1, 10)"


def quantiles(source: str, group: str, value: str, dialect: str) -> str:
    """Per `group` of the rows of `source` (a subquery or CTE name): the count and the
    median and 90th percentile of `value` (NULL values left out), as `n`, `q50`, `q90`.

    PostgreSQL has `percentile_cont`. SQLite has no percentile function, so each group's
    values are numbered in order (window functions) and the quantile read at position
    1 + p·(n - 1), interpolated between its two neighbours: the same definition as
    `percentile_cont`, in one pass in SQL and without sending the rows to Python.
    """
    if dialect == "postgresql":
        cols = ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY {value})"
                         f" AS q{round(p * 100)}" for p in QUANTILES)
        return (f"SELECT {group} AS grp, COUNT(*) AS n, {cols} FROM {source}"
                f" WHERE {value} IS NOT NULL GROUP BY {group}")
    cols = ", ".join(f"{_interpolated(p)} AS q{round(p * 100)}" for p in QUANTILES)
    return (f"SELECT grp, MAX(n) AS n, {cols} FROM (SELECT {group} AS grp, {value} AS v,"
            f" ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {value}) AS rn,"
            f" COUNT(*) OVER (PARTITION BY {group}) AS n FROM {source}"
            f" WHERE {value} IS NOT NULL) AS ranked GROUP BY grp")


def _interpolated(p: float) -> str:
    pos = f"(1 + {p} * (n - 1))"
    low = f"CAST({pos} AS INTEGER)"
    at_low = f"MAX(CASE WHEN rn = {low} THEN v END)"
    at_high = f"COALESCE(MAX(CASE WHEN rn = {low} + 1 THEN v END), {at_low})"
    fraction = f"MAX({pos} - {low})"
    return f"({at_low} + {fraction} * ({at_high} - {at_low}))"
