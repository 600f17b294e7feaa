"""`helpdesk-gateway kb gaps --since 30d [--json]`: the gap report on the command line,
from the configured database and knowledge base (the same figures as the console's page)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
from datetime import timedelta
from pathlib import Path

from gateway.config.settings import Settings, load_settings
from gateway.errors import ConfigError
from gateway.models import utcnow
from gateway.reports.gaps import GapReport, gap_report
from gateway.reports.period import MAX_DAYS
from gateway.store import store_for
from knowledge_base.files import load_directory
from knowledge_base.index import Matcher, MatcherSettings

_SINCE = re.compile(r"^(\d{1,4})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def since(text: str) -> timedelta:
    """"30d", "12h", "2w": at most a year back."""
    found = _SINCE.match(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError("write it as a number and h, d or w, e.g. 30d")
    span = int(found.group(1)) * _UNITS[found.group(2)]
    if not timedelta(0) < span <= timedelta(days=MAX_DAYS):
        raise argparse.ArgumentTypeError(f"between 1h and {MAX_DAYS}d")
    return span


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk-gateway kb gaps",
                                     description="What the bot could not answer, clustered")
    parser.add_argument("--config", default="config/gateway.toml", help="TOML configuration")
    parser.add_argument("--since", type=since, default=timedelta(days=30),
                        help="how far back: 12h, 30d, 2w (default 30d)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


async def _report(settings: Settings, span: timedelta) -> GapReport:
    loaded = await asyncio.to_thread(load_directory, settings.kb_path)
    # the features the clusters use do not depend on the sentence encoder: leave it out
    matcher = await asyncio.to_thread(
        Matcher.build, loaded.articles.values(),
        MatcherSettings(scope_check=settings.knowledge_base.scope_check))
    store = store_for(settings.database_url)
    await store.open()
    try:
        return await gap_report(store, matcher, utcnow() - span)
    finally:
        await store.close()


def as_text(report: GapReport) -> str:
    lines = [f"{report.gaps} questions the bot could not answer since"
             f" {report.since:%Y-%m-%d %H:%M} UTC{' (the newest)' if report.truncated else ''}"
             f", in {len(report.clusters)} clusters"]
    for c in report.clusters:
        tried = f"{c.article_id} ({c.confidence:.2f})" if c.article_id and c.confidence \
            is not None else (c.article_id or "nothing")
        reasons = ", ".join(f"{r} {n}" for r, n in c.reasons.items())
        lines.append(f"\n{c.key}: {c.count} question(s); tried {tried}; {reasons}")
        lines += [f"  - {q}" for q in c.questions]
        lines += [f"  operator: {' '.join(r.split())[:200]}" for r in c.replies]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(Path(args.config))
    except ConfigError as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_report(settings, args.since))
    if args.json:
        data = dataclasses.asdict(report)
        data["since"] = report.since.isoformat()
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(as_text(report))
    return 0
