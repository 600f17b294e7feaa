"""Builds the aiohttp application: the composition root that wires store, knowledge base,
pipeline, outbox, connectors and the console, and starts/stops them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import date

import structlog
from aiohttp import web

from connectors import api as api_channel
from connectors import api_outreach, phone, webchat
from connectors.email.state import EmailState
from gateway import console
from gateway.access.auth import ensure_admin
from gateway.bot.kb_service import KnowledgeService
from gateway.bot.pipeline import Pipeline
from gateway.channels import ChannelState, Connector
from gateway.config.settings import Settings
from gateway.csat import page as survey_page
from gateway.csat.service import Surveys
from gateway.csat.sweep import SurveySweep
from gateway.delivery.notify import Hub
from gateway.delivery.outbox import OutboxWorker
from gateway.delivery.relay import PgRelay
from gateway.directory import Directory
from gateway.integrations.client import Integrations
from gateway.keys import (
    CAMPAIGNS,
    CHANNEL_STATES,
    CONNECTORS,
    HUB,
    INTEGRATIONS,
    KB,
    NOTIFIER,
    OUTBOX,
    PIPELINE,
    RELAY,
    SETTINGS,
    SLA_WATCHER,
    STORE,
    SURVEYS,
    TELEMETRY,
    TICKETS,
)
from gateway.outreach import callback_time
from gateway.outreach.campaigns import CampaignRunner
from gateway.outreach.notifications import Notifier
from gateway.outreach.templates import Templates
from gateway.privacy import retention
from gateway.sla.watcher import SlaWatcher
from gateway.store import store_for
from gateway.telemetry import Telemetry
from gateway.tickets.service import TicketService
from gateway.web import headers, health, metrics, timing, unsubscribe
from knowledge_base import language
from knowledge_base.decide import DEFAULT_THRESHOLDS
from knowledge_base.index import MatcherSettings

log = structlog.get_logger(__name__)

#: WebSocket and JSON bodies larger than this are refused (aiohttp's 1-4 MiB is too generous).
MAX_REQUEST_BYTES = 1024 * 1024


def thresholds_from(settings: Settings) -> object:
    overrides = {k: v for k, v in settings.knowledge_base.thresholds.model_dump().items()
                 if v is not None}
    return dataclasses.replace(DEFAULT_THRESHOLDS, **overrides)


def channel_states() -> tuple[ChannelState, ...]:
    """Every channel's own stored state, whether or not the channel is enabled now: mail
    suppressed or quarantined while it was on must still be exported, erased and expired."""
    return (EmailState(),)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[HUB] = Hub()
    app[CONNECTORS] = {}
    app[CHANNEL_STATES] = channel_states()
    app[TELEMETRY] = Telemetry()
    app.cleanup_ctx.append(_core)
    headers.setup(app)
    timing.setup(app)
    health.setup(app)
    metrics.setup(app)
    unsubscribe.setup(app)
    webchat.setup(app)
    api_channel.setup(app)
    api_outreach.setup(app)
    phone.setup(app)
    survey_page.setup(app)
    console.setup(app)
    if settings.email.enabled:
        from connectors.email.connector import setup as setup_email

        setup_email(app)
    if settings.slack.enabled:
        from connectors.slack import setup as setup_slack

        setup_slack(app)
    return app


async def _core(app: web.Application) -> AsyncIterator[None]:
    """Open the store, load the KB, start the outbox and the connectors; undo in reverse."""
    settings, hub = app[SETTINGS], app[HUB]
    store = store_for(settings.database_url)
    await store.open()
    app[STORE] = store
    await ensure_admin(store, settings)
    language.configure(settings.languages.supported,  # before the KB loads the models
                       accurate=settings.languages.detection == "accurate")
    kb = KnowledgeService(settings.kb_path, thresholds_from(settings),  # type: ignore[arg-type]
                          settings.knowledge_base.reload_interval,
                          MatcherSettings(semantic=settings.knowledge_base.semantic,
                                          multilingual=settings.knowledge_base.multilingual,
                                          scope_check=settings.knowledge_base.scope_check))
    connectors: dict[str, Connector] = app[CONNECTORS]
    telemetry = app[TELEMETRY]
    outbox = OutboxWorker(store, connectors, settings.outbox, hub, telemetry)
    app[KB], app[OUTBOX] = kb, outbox
    directory = settings.customers.directory
    integrations = app[INTEGRATIONS] = Integrations(settings.integrations)
    app[PIPELINE] = Pipeline(store, kb, settings, hub, outbox.deliver_now,
                             Directory(settings.resolve(directory)) if directory else None,
                             integrations, telemetry)
    surveys = app[SURVEYS] = Surveys(store, settings.csat, hub, outbox.wake,
                                     settings.server.public_url, app[PIPELINE].texts)
    app[TICKETS] = TicketService(store, hub, outbox.wake,
                                 queues=[q.name for q in settings.queues],
                                 outcome_codes=settings.tickets.outcome_codes,
                                 priorities=sorted(settings.priority.priorities()),
                                 texts=app[PIPELINE].texts, on_solved=surveys.ticket_solved)
    templates = Templates(settings.resolve(settings.templates.path))
    app[NOTIFIER] = Notifier(store, connectors, templates, settings, outbox.wake)
    campaigns = app[CAMPAIGNS] = CampaignRunner(store, connectors, templates, settings,
                                                outbox.wake)
    sla_watcher = app[SLA_WATCHER] = SlaWatcher(store, hub, settings.sla,
                                                settings.calendar.for_queue,
                                                telemetry=telemetry)
    # replicas share one PostgreSQL database: live changes cross between them through it
    relay: contextlib.AbstractAsyncContextManager[object] = contextlib.nullcontext()
    if store.db.dialect == "postgresql":
        app[RELAY] = PgRelay(settings.database_url, hub)
        relay = app[RELAY].running()
    try:
        async with relay, integrations.running(), kb.running(), \
                outbox.running(settings.server.shutdown_grace), sla_watcher.running(), \
                app[PIPELINE].resuming(), campaigns.running(), \
                SurveySweep(surveys, channel_states()).running(), \
                retention.running(store, settings.retention, channel_states()):
            # The public-holiday tables import some 280 modules on first use: now, in a
            # thread, rather than on the event loop at the first hand-off.
            await asyncio.to_thread(settings.calendar.calendar().is_closed_day, date.today())
            # dateparser loads each language's data on first use (0.2-0.8 s): now, not at
            # a customer's first call-back request.
            await asyncio.to_thread(callback_time.warm_up)
            for connector in connectors.values():
                await connector.start()
            log.info("gateway.started", connectors=sorted(connectors))
            try:
                yield
            finally:
                for connector in reversed(list(connectors.values())):
                    await connector.stop()
    finally:
        await store.close()
        log.info("gateway.stopped")
