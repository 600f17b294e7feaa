"""Typed application keys: the app-level state every route and connector reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from gateway.access.login_throttle import LoginThrottle
    from gateway.bot.kb_service import KnowledgeService
    from gateway.bot.pipeline import Pipeline
    from gateway.channels import ChannelState, Connector
    from gateway.config.settings import Settings
    from gateway.csat.service import Surveys
    from gateway.delivery.notify import Hub
    from gateway.delivery.outbox import OutboxWorker
    from gateway.delivery.relay import PgRelay
    from gateway.integrations.client import Integrations
    from gateway.outreach.campaigns import CampaignRunner
    from gateway.outreach.notifications import Notifier
    from gateway.sla.watcher import SlaWatcher
    from gateway.store import Store
    from gateway.telemetry import Telemetry
    from gateway.tickets.service import TicketService

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
STORE: web.AppKey[Store] = web.AppKey("store")
HUB: web.AppKey[Hub] = web.AppKey("hub")
KB: web.AppKey[KnowledgeService] = web.AppKey("kb")
PIPELINE: web.AppKey[Pipeline] = web.AppKey("pipeline")
OUTBOX: web.AppKey[OutboxWorker] = web.AppKey("outbox")
TICKETS: web.AppKey[TicketService] = web.AppKey("tickets")
SLA_WATCHER: web.AppKey[SlaWatcher] = web.AppKey("sla_watcher")
CONNECTORS: web.AppKey[dict[str, Connector]] = web.AppKey("connectors")
LOGIN_THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")
RELAY: web.AppKey[PgRelay] = web.AppKey("relay")
INTEGRATIONS: web.AppKey[Integrations] = web.AppKey("integrations")
#: What channels keep in the store of their own (access, erasure, retention, quarantine).
CHANNEL_STATES: web.AppKey[tuple[ChannelState, ...]] = web.AppKey("channel_states")
SURVEYS: web.AppKey[Surveys] = web.AppKey("surveys")
#: Notifications from the company's systems (gateway/outreach).
NOTIFIER: web.AppKey[Notifier] = web.AppKey("notifier")
#: Campaigns' sender (gateway/outreach/campaigns.py).
CAMPAIGNS: web.AppKey[CampaignRunner] = web.AppKey("campaigns")
#: Figures counted as things happen, for /metrics (gateway/telemetry.py); one per app.
TELEMETRY: web.AppKey[Telemetry] = web.AppKey("telemetry")
