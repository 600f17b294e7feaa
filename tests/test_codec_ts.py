"""The store's timestamps: what `codec.ts` writes, `codec.parse_ts` reads back exactly
(the fast `fromisoformat` path), and other shapes are refused as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.store import codec


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 2, 18, 54, 14, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=UTC),  # no fraction: still written as .000000
    datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=2))),
])
def test_what_ts_writes_parse_ts_reads_back(moment: datetime) -> None:
    text = codec.ts(moment)
    parsed = codec.parse_ts(text)
    assert parsed == moment and parsed.utcoffset() == timedelta(0)
    assert codec.ts(parsed) == text


@pytest.mark.parametrize("text", ["2026-12-02", "2026-12-02T18:54:14Z",
                                  "2026-12-02T18:54:14.123456", "2026-12-02 18:54:14.123456Z"])
def test_other_shapes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        codec.parse_ts(text)
