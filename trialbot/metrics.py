"""The service's counters, in one Prometheus registry (served at /metrics).

Names are a contract with dashboards: change them only with a note in the README.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

POLLS = Counter(
    "trialbot_polls",
    "Registry polls, by registry, mode and outcome",
    ["registry", "mode", "outcome"],
    registry=REGISTRY,
)
SWEEPS = Counter(
    "trialbot_sweeps",
    "Full re-reads without the date filter, run because a registry matched more records than "
    "ever reached us",
    ["registry"],
    registry=REGISTRY,
)
UNKNOWN_VALUES = Counter(
    "trialbot_unknown_values",
    "Registry values an adapter could not decode (a status, code, phase, country...), each "
    "occurrence, by registry and kind; the first of each value is also logged",
    ["registry", "kind"],
    registry=REGISTRY,
)
RECORDS_FETCHED = Counter(
    "trialbot_records_fetched", "Registry records fetched", ["registry"], registry=REGISTRY
)
CHANGES = Counter(
    "trialbot_changes", "Trials stored as new or changed", ["registry", "kind"], registry=REGISTRY
)
ALERTS_QUEUED = Counter("trialbot_alerts_queued", "Alerts put in the outbox", registry=REGISTRY)
ALERTS_SENT = Counter("trialbot_alerts_sent", "Alerts delivered to Telegram", registry=REGISTRY)
ALERTS_FAILED = Counter(
    "trialbot_alerts_failed",
    "Alerts that will not be delivered, by reason",
    ["reason"],
    registry=REGISTRY,
)
ALERTS_RETRIED = Counter(
    "trialbot_alerts_retried", "Alert sends rescheduled, by reason", ["reason"], registry=REGISTRY
)
TELEGRAM_429 = Counter(
    "trialbot_telegram_429", "Too Many Requests answers from Telegram", registry=REGISTRY
)
SEND_LATENCY = Histogram(
    "trialbot_send_latency_seconds",
    "Time from queueing an alert to delivering it",
    buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "trialbot_outbox_backlog", "Alerts waiting to be sent", ["status"], registry=REGISTRY
)
LAST_POLL_SUCCESS = Gauge(
    "trialbot_last_poll_success_timestamp_seconds",
    "When each registry last polled successfully",
    ["registry"],
    registry=REGISTRY,
)
UPDATES_DROPPED = Counter(
    "trialbot_updates_dropped", "Telegram updates dropped from flooding chats", registry=REGISTRY
)
HANDLER_ERRORS = Counter(
    "trialbot_handler_errors",
    "Exceptions raised while handling a Telegram update, by exception type and update kind",
    ["error", "update"],
    registry=REGISTRY,
)
ERROR_HANDLER_FAILURES = Counter(
    "trialbot_error_handler_failures",
    "Steps of the error handler that failed in turn (answering the user, telling the admins)",
    ["step"],
    registry=REGISTRY,
)
PUBLICATION_LOOKS = Counter(
    "trialbot_publication_looks",
    "Looks for a trial's publications (registry lists and PubMed), by outcome",
    ["outcome"],
    registry=REGISTRY,
)
RESULTS_FOUND = Counter(
    "trialbot_results_papers_found",
    "Publications newly known as results papers (each alerted once per chat)",
    registry=REGISTRY,
)
PUBLICATION_LOOKS_OVERDUE = Gauge(
    "trialbot_publication_looks_overdue",
    "Trials whose publication look is more than a day late",
    registry=REGISTRY,
)
LAST_PUBLICATION_LOOK = Gauge(
    "trialbot_last_publication_look_timestamp_seconds",
    "When a trial's publications were last looked for",
    registry=REGISTRY,
)
