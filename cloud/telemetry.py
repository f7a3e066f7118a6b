"""Counters of the calls nestops makes to the cloud, for ``/metrics``.

Every process (web, workers, beat) counts its own calls; with ``PROMETHEUS_MULTIPROC_DIR`` set
(``nestops/settings.py`` does) the values live in files there that the web process adds up.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CLOUD_CALLS = Counter(
    "nestops_cloud_api_calls",
    "Calls to the cloud's APIs, by product and action.",
    ["product", "action"],
)
CLOUD_ERRORS = Counter(
    "nestops_cloud_api_errors",
    "Cloud API calls that failed, by product, action and error code.",
    ["product", "action", "code"],
)
CLOUD_SECONDS = Histogram(
    "nestops_cloud_api_call_seconds",
    "How long cloud API calls took, by product.",
    ["product"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def count_call(product: str, action: str, seconds: float, error_code: str = "") -> None:
    CLOUD_CALLS.labels(product=product, action=action).inc()
    CLOUD_SECONDS.labels(product=product).observe(seconds)
    if error_code:
        CLOUD_ERRORS.labels(product=product, action=action, code=error_code[:60]).inc()
