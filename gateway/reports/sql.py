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


def quantiles(source: str, group: str, values: tuple[str, ...], dialect: str,
              total: str | None = None) -> str:
    """Per `group` of the rows `source` (a SELECT giving `group` and `values` columns), and
    over all rows as group `total` when given: for each value `v`, the count of non-NULL
    values (`n_v`) and their median and 90th percentile (`v_q50`, `v_q90`).

    PostgreSQL has `percentile_cont` (and GROUPING SETS for the total, in one pass). SQLite
    has no percentile function, so each group's values are numbered in order (window
    functions, NULLs last) and the quantile read at position 1 + p·(n - 1), interpolated
    between its two neighbours: the same definition as `percentile_cont`, in SQL, without
    sending the rows to Python. `source` is computed once (a materialised CTE).
    """
    if dialect == "postgresql":
        cols = ", ".join(f"COUNT({v}) AS n_{v}, " + ", ".join(
            f"percentile_cont({p}) WITHIN GROUP (ORDER BY {v}) AS {v}_q{round(p * 100)}"
            for p in QUANTILES) for v in values)
        key = f"COALESCE({group}, '{total}')" if total else group
        grouping = f"GROUPING SETS (({group}), ())" if total else group
        return f"WITH d AS ({source}) SELECT {key} AS grp, {cols} FROM d GROUP BY {grouping}"
    rows = f"SELECT {group} AS grp, {', '.join(values)} FROM d"
    if total:
        rows += f" UNION ALL SELECT '{total}', {', '.join(values)} FROM d"
    windows = ", ".join(
        f"ROW_NUMBER() OVER (PARTITION BY grp ORDER BY {v} IS NULL, {v}) AS rn_{v},"
        f" COUNT({v}) OVER (PARTITION BY grp) AS n_{v}" for v in values)
    cols = ", ".join(f"MAX(n_{v}) AS n_{v}, " + ", ".join(
        f"{_interpolated(p, v)} AS {v}_q{round(p * 100)}" for p in QUANTILES) for v in values)
    return (f"WITH d AS MATERIALIZED ({source}), u AS ({rows})"
            f" SELECT grp, {cols} FROM (SELECT u.*, {windows} FROM u) AS ranked GROUP BY grp")


def _interpolated(p: float, v: str) -> str:
    pos = f"(1 + {p} * (n_{v} - 1))"
    low = f"CAST({pos} AS INTEGER)"
    at_low = f"MAX(CASE WHEN rn_{v} = {low} THEN {v} END)"
    at_high = f"COALESCE(MAX(CASE WHEN rn_{v} = {low} + 1 THEN {v} END), {at_low})"
    fraction = f"MAX({pos} - {low})"
    return f"({at_low} + {fraction} * ({at_high} - {at_low}))"
