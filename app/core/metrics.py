"""Prometheus metrics of the HTTP layer."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "claimdesk_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "claimdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

WEBHOOK_ATTEMPTS = Counter(
    "claimdesk_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, failed, dead).",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "claimdesk_webhook_attempt_duration_seconds",
    "Time a receiver took to answer one delivery.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENT_LAG = Histogram(
    "claimdesk_webhook_event_lag_seconds",
    "From the change's commit time to a receiver's 2xx, for first attempts.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
