"""`GET /metrics`: operations figures in the Prometheus text format (docs/operations.md).

Every gauge is read at scrape time, from the tables (indexed counts) and from the channels'
own health reports, the ones /readyz shows: nothing is kept aside that could drift. The
counters are the pipeline's and the back-office client's tallies since start, and the
histograms and counters of `gateway/telemetry.py`, observed as things happen. Each app has
its own registry (the app's `Telemetry`'s), so several apps in one process (the tests)
never share figures.

Like /readyz details, the figures are only for a probe on the machine itself, or for a
scraper that presents `[metrics] token` as a bearer token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.channels import health_of
from gateway.errors import StoreError
from gateway.keys import CONNECTORS, INTEGRATIONS, KB, PIPELINE, SETTINGS, STORE, TELEMETRY
from gateway.models import utcnow
from gateway.web.health import is_local_probe

_MAILBOX = ["connector", "mailbox"]


class _Scrape(Collector):
    """Hands the registry the families the handler has just read (collect() cannot await)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return self.families


_REGISTRY: web.AppKey[tuple[CollectorRegistry, _Scrape]] = web.AppKey("metrics_registry")


async def metrics(request: web.Request) -> web.Response:
    if not _may_scrape(request):
        raise web.HTTPForbidden(text="metrics: loopback or the [metrics] bearer token only")
    registry, scrape = request.app[_REGISTRY]
    try:
        families = await _families(request.app)
    except StoreError as exc:
        raise web.HTTPServiceUnavailable(text=f"store: {exc}") from exc
    scrape.families = families  # no await between this and the render: scrapes never mix
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _may_scrape(request: web.Request) -> bool:
    if is_local_probe(request):
        return True
    token = request.app[SETTINGS].metrics.token.get_secret_value()
    given = request.headers.get("Authorization", "")
    # an empty token never matches: a missing or blank header must not pass
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def _families(app: web.Application) -> list[Metric]:
    store = app[STORE]
    outbox = GaugeMetricFamily("helpdesk_outbox_entries", "Outbox entries by status",
                               labels=["status"])
    for status, count in sorted((await store.outbox_by_status()).items()):
        outbox.add_metric([status], count)
    oldest = await store.oldest_pending_outbox()
    age = GaugeMetricFamily("helpdesk_outbox_oldest_pending_age_seconds",
                            "Age of the oldest undelivered reply (0: none pending)",
                            value=(utcnow() - oldest).total_seconds() if oldest else 0.0)
    tickets = GaugeMetricFamily("helpdesk_tickets_open", "Open tickets (new, open, pending)"
                                " per queue", labels=["queue"])
    for queue, count in sorted((await store.open_tickets_by_queue()).items()):
        tickets.add_metric([queue], count)
    unhandled = GaugeMetricFamily("helpdesk_messages_unhandled",
                                  "Customer messages not decided yet",
                                  value=await store.unhandled_inbound_count())
    kb = app.get(KB)
    articles = GaugeMetricFamily("helpdesk_kb_articles", "Knowledge-base articles loaded",
                                 value=len(kb.snapshot.articles) if kb and kb.ready else 0)
    return [outbox, age, tickets, unhandled, articles, *_mailboxes(app), *_counters(app),
            *_integrations(app)]


def _mailboxes(app: web.Application) -> Iterator[Metric]:
    """From each mailbox's health report (the one /readyz shows)."""
    up = GaugeMetricFamily("helpdesk_mailbox_connected", "1: connected to the mail server",
                           labels=_MAILBOX)
    state = GaugeMetricFamily("helpdesk_mailbox_state", "1 for the mailbox loop's state",
                              labels=[*_MAILBOX, "state"])
    lease = GaugeMetricFamily("helpdesk_mailbox_lease_held",
                              "1: this replica holds the mailbox lease", labels=_MAILBOX)
    since = GaugeMetricFamily("helpdesk_mailbox_seconds_since_sync",
                              "Seconds since the mailbox loop last completed a step",
                              labels=_MAILBOX)
    behind = GaugeMetricFamily("helpdesk_mailbox_behind_mails",
                               "Mails listed above the position, not taken in yet",
                               labels=_MAILBOX)
    waiting = GaugeMetricFamily("helpdesk_mailbox_oldest_waiting_seconds",
                                "Seconds the oldest of them has been waiting (0: none)",
                                labels=_MAILBOX)
    for name, connector in sorted(app[CONNECTORS].items()):
        report = health_of(connector)
        if "mailbox" not in report:
            continue
        labels = [name, str(report["mailbox"])]
        up.add_metric(labels, int(bool(report["connected"])))
        state.add_metric([*labels, str(report["state"])], 1)
        lease.add_metric(labels, int(bool(report["lease"]["held_here"])))
        since.add_metric(labels, float(report["seconds_since_sync"]))
        # Not on a replica standing by, nor before the first listing: unknown, not 0.
        if report.get("behind") is not None:
            behind.add_metric(labels, float(report["behind"]))
            waiting.add_metric(labels, float(report["oldest_waiting_seconds"] or 0.0))
    yield from (up, state, lease, since, behind, waiting)


def _counters(app: web.Application) -> Iterator[Metric]:
    pipeline = app.get(PIPELINE)
    messages = CounterMetricFamily("helpdesk_messages_in", "Customer messages decided since"
                                   " start, per channel", labels=["channel"])
    decisions = CounterMetricFamily("helpdesk_decisions", "Bot decisions since start, per"
                                    " kind and language", labels=["decision", "language"])
    if pipeline is not None:
        for channel, count in sorted(pipeline.messages_in.items()):
            messages.add_metric([channel], count)
        for (decision, language), count in sorted(pipeline.decisions.items()):
            decisions.add_metric([decision, language], count)
    yield from (messages, decisions)


def _integrations(app: web.Application) -> Iterator[Metric]:
    """Back-office calls (gateway/integrations/client.py): outcomes, latency, breakers."""
    integrations = app.get(INTEGRATIONS)
    calls = CounterMetricFamily("helpdesk_integration_calls", "Back-office HTTP attempts"
                                " (and calls refused by an open circuit) since start, per"
                                " integration and outcome", labels=["integration", "outcome"])
    latency = SummaryMetricFamily("helpdesk_integration_latency_seconds",
                                  "Time spent in back-office HTTP attempts",
                                  labels=["integration"])
    circuit = GaugeMetricFamily("helpdesk_integration_circuit_open",
                                "1: the integration's circuit breaker is open (not called)",
                                labels=["integration"])
    if integrations is not None:
        for (name, outcome), count in sorted(integrations.calls.items()):
            calls.add_metric([name, outcome], count)
        for name, (seconds, count) in sorted(integrations.latency.items()):
            latency.add_metric([name], count_value=count, sum_value=seconds)
        for name, breaker in sorted(integrations.breakers.items()):
            circuit.add_metric([name], int(breaker.state == "open"))
    yield from (calls, latency, circuit)


def setup(app: web.Application) -> None:
    registry, scrape = app[TELEMETRY].registry, _Scrape()
    registry.register(scrape)
    app[_REGISTRY] = (registry, scrape)
    app.router.add_get("/metrics", metrics)
