"""The knowledge base as the running gateway sees it: loaded, indexed and hot-reloaded.

Admins edit plain files; within `reload_interval` seconds of an edit the gateway rebuilds
the index in a worker thread and swaps it in atomically. A file that no longer loads keeps
its last good articles serving, and its error is shown in the console and `/readyz`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from gateway.background import background
from gateway.memory import release_freed_memory
from knowledge_base.decide import Thresholds
from knowledge_base.files import LoadResult, load_directory
from knowledge_base.index import Matcher, MatcherSettings
from knowledge_base.language import load_models
from knowledge_base.model import Article

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class KBSnapshot:
    articles: dict[str, Article]
    matcher: Matcher
    errors: tuple[str, ...]
    loaded_at: float
    files: dict[Path, list[str]] = field(default_factory=dict)


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    entries = []
    for path in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class KnowledgeService:
    def __init__(self, root: Path, thresholds: Thresholds, interval: float = 1.0,
                 matcher: MatcherSettings | None = None) -> None:
        self.root = root
        self.matcher_settings = matcher or MatcherSettings()
        self.thresholds = thresholds
        self.interval = interval
        self._snapshot: KBSnapshot | None = None
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self.reloads = 0

    @property
    def snapshot(self) -> KBSnapshot:
        if self._snapshot is None:
            raise RuntimeError("the knowledge base is not loaded yet")
        return self._snapshot

    @property
    def errors(self) -> tuple[str, ...]:
        return self._snapshot.errors if self._snapshot is not None else ()

    @property
    def ready(self) -> bool:
        return self._snapshot is not None and bool(self._snapshot.articles)

    def load(self) -> KBSnapshot:
        """Load the directory now (blocking); keep last good articles of files now broken."""
        fingerprint = _fingerprint(self.root)
        result = load_directory(self.root)
        articles = self._with_last_good(result)
        matcher = Matcher.build(articles.values(), self.matcher_settings)
        load_models()  # the pipeline detects every message's language: not on the first one
        release_freed_memory()  # what the training threads freed (glibc keeps it otherwise)
        errors = tuple(str(error) for error in result.errors)
        if not self.root.is_dir():
            errors = (f"{self.root}: knowledge-base directory not found", *errors)
        self._snapshot = KBSnapshot(articles, matcher, errors, time.time(), dict(result.files))
        self._fingerprint = fingerprint
        self.reloads += 1
        for error in errors:
            log.warning("kb.error", error=error)
        log.info("kb.loaded", articles=len(articles), errors=len(errors))
        return self._snapshot

    def _with_last_good(self, result: LoadResult) -> dict[str, Article]:
        articles = dict(result.articles)
        previous = self._snapshot
        if previous is None:
            return articles
        for error in result.errors:
            for article_id in previous.files.get(error.path, ()):
                if article_id not in articles and article_id in previous.articles:
                    articles[article_id] = previous.articles[article_id]
                    result.files.setdefault(error.path, []).append(article_id)
        return articles

    async def reload_if_changed(self) -> bool:
        if _fingerprint(self.root) == self._fingerprint:
            return False
        try:
            await asyncio.to_thread(self.load)
        except Exception:  # a matcher bug must not take the last good KB down with it
            log.exception("kb.reload_failed")
            return False
        return True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[KnowledgeService]:
        """Load once, then watch the directory until the context exits."""
        if self._snapshot is None:
            await asyncio.to_thread(self.load)
        async with background(self._watch(), "kb-reloader"):
            yield self

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.reload_if_changed()
