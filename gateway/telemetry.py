"""The figures counted as things happen, for `GET /metrics` (docs/operations.md).

One `Telemetry` per app, each with its own `CollectorRegistry`: several apps in one
process (the tests) never share figures. The pipeline, the outbox, the SLA watcher and the
HTTP middleware get it from the app; connectors reach it through `TELEMETRY`, so the core
never imports a connector. Labels are bounded sets (channels, decisions, statuses, route
templates), never customer input.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

#: Seconds: a KB match is milliseconds (light) to tens of ms (sentence encoder).
_KB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Seconds: a decision is tens of ms, a back-office call or a loaded database seconds.
_SLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.kb_match = Histogram(
            "helpdesk_kb_match_seconds", "Time the knowledge base took to match one"
            " customer message", buckets=_KB_BUCKETS, registry=r)
        self.pipeline = Histogram(
            "helpdesk_pipeline_seconds", "Time from a stored customer message to its"
            " decision committed, per decision", ["decision"], buckets=_SLOW_BUCKETS,
            registry=r)
        self.messages_out = Counter(
            "helpdesk_messages_out", "Outbox send attempts, per channel and result (sent,"
            " retry, failed, uncertain, resend)", ["channel", "status"], registry=r)
        self.slack_rate_limited = Counter(
            "helpdesk_slack_rate_limited", "Slack Web API answers that were rate limited"
            " (HTTP 429 / ratelimited), per method", ["method"], registry=r)
        self.sla_alarms = Counter(
            "helpdesk_sla_alarms", "SLA warnings and breaches recorded by this process,"
            " per kind, clock and queue", ["kind", "clock", "queue"], registry=r)
        self.http = Histogram(
            "helpdesk_http_request_seconds", "HTTP request handling time, per route"
            " template and method (unknown routes: one label)", ["route", "method"],
            buckets=_SLOW_BUCKETS, registry=r)
