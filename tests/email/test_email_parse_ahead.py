"""Parsing ahead (connectors/email/ahead.py): each mail gets its own parse, in order, at
most `depth` ahead of the one being stored; a failed parse belongs to its mail only."""

from __future__ import annotations

import asyncio

import pytest

from connectors.email.ahead import ParseAhead
from connectors.email.parse import ParsedMail
from connectors.email.worker import ParseWorker


class Parser:
    """Records which mails were started; `gate` holds every parse until opened."""

    def __init__(self, fail: bytes | None = None) -> None:
        self.started: list[bytes] = []
        self.running = 0
        self.most_at_once = 0
        self.fail = fail

    async def __call__(self, raw: bytes) -> str:
        self.started.append(raw)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.001)
            if raw == self.fail:
                raise ValueError(f"cannot parse {raw!r}")
            return raw.decode().upper()
        finally:
            self.running -= 1


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0.002)


async def test_parses_run_one_at_a_time_in_order_and_ahead_of_the_store() -> None:
    parser = Parser()
    raws = [f"m{i}".encode() for i in range(10)]
    async with ParseAhead(parser, raws, depth=3) as ahead:
        await settle()  # nothing asked for yet: only `depth` mails parsed ahead
        assert parser.started == raws[:3]
        assert await ahead.parsed(0) == "M0"
        await settle()
        assert parser.started == raws[:4]  # asking for one lets one more be parsed
        results = [await ahead.parsed(i) for i in range(1, 10)]
    assert results == [f"M{i}" for i in range(1, 10)]
    assert parser.started == raws  # each mail parsed once, in order
    assert parser.most_at_once == 1  # one parse at a time: its time limit is its own


async def test_a_failed_parse_is_its_own_mails_error_only() -> None:
    parser = Parser(fail=b"bad")
    async with ParseAhead(parser, [b"a", b"bad", b"c"]) as ahead:
        assert await ahead.parsed(0) == "A"
        with pytest.raises(ValueError, match="bad"):
            await ahead.parsed(1)
        assert await ahead.parsed(2) == "C"


async def test_asking_out_of_order_or_skipping_never_waits_forever() -> None:
    parser = Parser()
    raws = [f"m{i}".encode() for i in range(8)]
    async with ParseAhead(parser, raws, depth=1) as ahead:
        assert await asyncio.wait_for(ahead.parsed(6), 5) == "M6"


async def test_leaving_early_stops_parsing_and_leaves_nothing_pending() -> None:
    parser = Parser(fail=b"m1")
    raws = [f"m{i}".encode() for i in range(20)]
    async with ParseAhead(parser, raws, depth=2) as ahead:
        await ahead.parsed(0)
        await settle()  # m1's failure is never asked for: no "never retrieved" warning
    started = len(parser.started)
    await settle()
    assert started == len(parser.started) < len(raws)
    assert parser.running == 0


class BatchParser(Parser):
    """Also takes several mails at once (`parse_many`); `broken` fails a whole batch."""

    def __init__(self, fail: bytes | None = None, broken: bool = False) -> None:
        super().__init__(fail)
        self.batches: list[list[bytes]] = []
        self.broken = broken

    async def many(self, raws: list[bytes]) -> list[str | BaseException]:
        self.batches.append(list(raws))
        await asyncio.sleep(0.001)
        if self.broken:
            raise TimeoutError("the batch took too long")
        return [ValueError(f"cannot parse {raw!r}") if raw == self.fail
                else raw.decode().upper() for raw in raws]


async def test_the_mails_allowed_ahead_are_parsed_in_one_round_trip() -> None:
    parser = BatchParser(fail=b"m2")
    raws = [f"m{i}".encode() for i in range(10)]
    async with ParseAhead(parser, raws, depth=3, parse_many=parser.many) as ahead:
        await settle()
        assert parser.batches == [raws[:3]] and parser.started == []
        assert await ahead.parsed(0) == "M0"
        assert await ahead.parsed(1) == "M1"
        with pytest.raises(ValueError, match="m2"):  # its own failure, the others parse
            await ahead.parsed(2)
        results = [await ahead.parsed(i) for i in range(3, 10)]
    assert results == [f"M{i}" for i in range(3, 10)]
    assert [raw for batch in parser.batches for raw in batch] == raws  # each once, in order
    assert len(parser.batches) < len(raws)


async def test_a_batch_that_fails_as_a_whole_is_parsed_one_mail_at_a_time() -> None:
    parser = BatchParser(fail=b"m1", broken=True)
    raws = [f"m{i}".encode() for i in range(4)]
    async with ParseAhead(parser, raws, depth=4, parse_many=parser.many) as ahead:
        assert await ahead.parsed(0) == "M0"
        with pytest.raises(ValueError, match="m1"):
            await ahead.parsed(1)
        assert [await ahead.parsed(i) for i in (2, 3)] == ["M2", "M3"]
    assert parser.batches == [raws]
    assert parser.started == raws and parser.most_at_once == 1


async def test_the_worker_process_parses_several_mails_in_one_round_trip() -> None:
    worker = ParseWorker()
    raws = [f"From: Ann <ann{i}@customer.test>\r\nTo: support@velora.test\r\n"
            f"Subject: Question {i}\r\nMessage-ID: <q{i}@customer.test>\r\n\r\n"
            f"Where is my order {i}?\r\n".encode() for i in range(3)]
    try:
        parsed = await worker.parse_many(raws, max_attachment_bytes=1_000_000)
    finally:
        worker.close()
    assert [p.message_id for p in parsed if isinstance(p, ParsedMail)] == \
        [f"<q{i}@customer.test>" for i in range(3)]


async def test_ahead_of_the_store_a_call_gathers_half_the_window() -> None:
    parser = BatchParser()
    raws = [f"m{i}".encode() for i in range(12)]
    async with ParseAhead(parser, raws, depth=4, parse_many=parser.many) as ahead:
        await settle()
        assert parser.batches == [raws[:4]]
        assert await ahead.parsed(0) == "M0"
        await settle()  # one mail allowed, the store not waiting: no call for it alone
        assert parser.batches == [raws[:4]]
        assert await ahead.parsed(1) == "M1"
        await settle()  # two allowed: one call for both
        assert parser.batches == [raws[:4], raws[4:6]]
        # The store waiting for a mail not parsed yet takes what is allowed at once.
        assert await asyncio.wait_for(ahead.parsed(9), 5) == "M9"
        results = [await ahead.parsed(i) for i in range(10, 12)]
    assert results == ["M10", "M11"]
    assert [raw for batch in parser.batches for raw in batch] == raws
