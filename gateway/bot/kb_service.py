"""The knowledge base as the running gateway sees it: loaded, indexed and hot-reloaded.

Admins edit plain files; within `reload_interval` seconds of an edit the gateway updates
the index in a worker thread and swaps it in atomically. A file that no longer loads keeps
its last good articles serving, and its error is shown in the console and `/readyz`.

An edit of a few articles is an update of the serving matcher (`Matcher.build(previous=)`):
only the edited articles' texts are read and their models trained, about a second for a
15,000-question KB. The other articles' models and the confidence's calibration are then
those of the KB before the edit, so a full rebuild follows in a low-priority thread and
replaces the update when it is done (if no newer edit came meanwhile): the answers are
those of a full build again some seconds later, and the gateway keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from gateway.background import background, stop_task
from gateway.memory import release_freed_memory
from knowledge_base.decide import Thresholds
from knowledge_base.files import FileCache, LoadResult, load_directory
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
    #: Seconds the load took; "full", or "update" (the articles retrained, a full
    #: rebuild to follow in the background)
    seconds: float = 0.0
    kind: str = "full"


Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(root: Path) -> Fingerprint:
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
        self._fingerprint: Fingerprint | None = None
        self.reloads = 0
        #: the files' parses: a reload parses only the files that changed
        self._files = FileCache()
        #: reloads that updated the serving matcher rather than building it in full
        self.updates = 0
        self._reloading = asyncio.Lock()
        self._rebuild: asyncio.Task[None] | None = None
        #: One low-priority thread for the full rebuilds after an update (not the default
        #: pool: its threads serve requests' work and must keep their priority).
        self._rebuilder = ThreadPoolExecutor(1, "kb-rebuild", initializer=_lower_priority)

    @property
    def snapshot(self) -> KBSnapshot:
        if self._snapshot is None:
            raise RuntimeError("the knowledge base is not loaded yet")
        return self._snapshot

    @property
    def files_parsed(self) -> int:
        """Files the last load parsed (the others were unchanged: their parse is kept)."""
        return self._files.parsed

    @property
    def errors(self) -> tuple[str, ...]:
        return self._snapshot.errors if self._snapshot is not None else ()

    @property
    def ready(self) -> bool:
        return self._snapshot is not None and bool(self._snapshot.articles)

    def load(self, update: bool = False) -> KBSnapshot:
        """Load the directory now (blocking); keep last good articles of files now broken.

        With `update`, a matcher serving already is updated rather than rebuilt when only a
        few articles changed (see the module docstring)."""
        return self._install(*self._read(update))

    def _read(self, update: bool) -> tuple[KBSnapshot, Fingerprint]:
        """The directory's snapshot (in a worker thread: this is the CPU work)."""
        started = time.perf_counter()
        fingerprint = _fingerprint(self.root)
        result = load_directory(self.root, self._files)
        articles = self._with_last_good(result)
        previous = self._snapshot.matcher if update and self._snapshot is not None else None
        matcher = Matcher.build(articles.values(), self.matcher_settings, previous)
        load_models()  # the pipeline detects every message's language: not on the first one
        release_freed_memory()  # what the training threads freed (glibc keeps it otherwise)
        errors = tuple(str(error) for error in result.errors)
        if not self.root.is_dir():
            errors = (f"{self.root}: knowledge-base directory not found", *errors)
        kind = "full" if matcher.updated is None else "update"
        return KBSnapshot(articles, matcher, errors, time.time(), dict(result.files),
                          time.perf_counter() - started, kind), fingerprint

    def _install(self, snapshot: KBSnapshot, fingerprint: Fingerprint) -> KBSnapshot:
        """Serve `snapshot` from now on. On the event loop once running, so that the full
        rebuild's swap (also there) never replaces a newer snapshot by an older one."""
        self._snapshot = snapshot
        self._fingerprint = fingerprint
        self.reloads += 1
        self.updates += snapshot.kind == "update"
        for error in snapshot.errors:
            log.warning("kb.error", error=error)
        log.info("kb.loaded", articles=len(snapshot.articles), errors=len(snapshot.errors),
                 kind=snapshot.kind, updated=list(snapshot.matcher.updated or ()),
                 seconds=round(snapshot.seconds, 3))
        return snapshot

    def _full(self, snapshot: KBSnapshot) -> Matcher:
        """The full build of a snapshot's articles (in the low-priority thread)."""
        return Matcher.build(snapshot.articles.values(), self.matcher_settings)

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
        async with self._reloading:  # the watcher and the console may both ask
            if _fingerprint(self.root) == self._fingerprint:
                return False
            try:
                snapshot = self._install(*await asyncio.to_thread(self._read, True))
            except Exception:  # a matcher bug must not take the last good KB down with it
                log.exception("kb.reload_failed")
                return False
        if snapshot.kind == "update" and (self._rebuild is None or self._rebuild.done()):
            self._rebuild = asyncio.create_task(self._rebuild_in_full(), name="kb-rebuild")
        return True

    async def _rebuild_in_full(self) -> None:
        """Replace an updated matcher by a full build of the same articles, unless a newer
        edit came meanwhile (then that one is rebuilt in full)."""
        loop = asyncio.get_running_loop()
        while (snapshot := self._snapshot) is not None and snapshot.kind == "update":
            started = time.perf_counter()
            try:
                matcher = await loop.run_in_executor(self._rebuilder, self._full, snapshot)
            except Exception:
                log.exception("kb.rebuild_failed")  # the update keeps serving
                return
            if self._snapshot is snapshot:
                self._snapshot = dataclasses.replace(
                    snapshot, matcher=matcher, kind="full",
                    seconds=time.perf_counter() - started)
                log.info("kb.rebuilt", articles=len(snapshot.articles),
                         seconds=round(time.perf_counter() - started, 3))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[KnowledgeService]:
        """Load once, then watch the directory until the context exits."""
        if self._snapshot is None:
            await asyncio.to_thread(self.load)
        try:
            async with background(self._watch, "kb-reloader"):
                yield self
        finally:
            if self._rebuild is not None:
                await stop_task(self._rebuild)
            self._rebuilder.shutdown(wait=False, cancel_futures=True)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.reload_if_changed()


#: Niceness of the full rebuild's thread: a tenth of a serving thread's CPU share when
#: both want the core (19, a seventieth, starved it for minutes on a loaded machine).
REBUILD_NICENESS = 10


def _lower_priority() -> None:
    """The rebuild thread (and the threads it starts, which inherit it) yields the CPU to
    the threads serving customers: Linux niceness is per thread."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REBUILD_NICENESS)
